# my2pg CLI and worker image. `docker run IMAGE worker`, `docker run IMAGE start --wait`, ...
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY jobs ./jobs
COPY workers ./workers
COPY examples ./examples
COPY fixtures ./fixtures
# npm ci runs the `prepare` script, which compiles everything into dist/.
RUN npm ci --no-audit --no-fund
ENTRYPOINT ["node", "bin/my2pg.js"]
