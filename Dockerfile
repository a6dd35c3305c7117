# my2pg CLI, worker and board image. `docker run IMAGE worker`, `docker run IMAGE start --wait`, `docker run IMAGE board`, ...
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
# `board` listens here (docker-compose.yml publishes it).
EXPOSE 3000
ENTRYPOINT ["node", "bin/my2pg.js"]
