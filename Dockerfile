# One image for the engine, the CLI and the example workers.
# The full Node image carries python3/make/g++ for better-sqlite3's native build.
FROM node:20.18.1-bookworm
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY packages packages
COPY sagas sagas
COPY examples examples
RUN npm ci --omit=dev && npm cache clean --force
ENTRYPOINT ["node", "packages/cli/bin/sagaflow.js"]
CMD ["run"]
