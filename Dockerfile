# One image for the engine, the CLI and the example workers, made of what a user installs: the
# packages compiled and packed, installed in /app with production dependencies only, and the
# example sagas and workers compiled to JavaScript (scripts/image-app.sh, which
# test/install.e2e.test.ts runs too). Nothing in the image runs through TypeScript.

# Build: the workspace with its dev dependencies (the full Node image carries python3, make and
# g++ for better-sqlite3 where no prebuilt binary downloads).
FROM node:20.18.1-bookworm AS build
WORKDIR /src
COPY . .
RUN npm ci && scripts/image-app.sh /app && npm cache clean --force

# Run: the assembled /app on the slim image of the same Debian release.
FROM node:20.18.1-bookworm-slim
ENV NODE_ENV=production PATH=/app/node_modules/.bin:$PATH
WORKDIR /app
COPY --from=build /app /app
ENTRYPOINT ["sagaflow"]
CMD ["run", "--sagas", "sagas"]
