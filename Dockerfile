FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY jobs ./jobs
COPY workers ./workers
COPY examples ./examples
COPY fixtures ./fixtures
RUN npm install --no-audit --no-fund
ENTRYPOINT ["node", "bin/my2pg.js"]
