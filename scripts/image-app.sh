#!/usr/bin/env bash
# Assembles the application directory of the Docker image in OUT, from a built checkout (npm ci
# has run): every package packed and installed there as a user installs it, with production
# dependencies only, and the example sagas and workers compiled to JavaScript. Nothing in OUT
# needs TypeScript or tsx to run. The Dockerfile runs it; so does test/install.e2e.test.ts.
#
#   scripts/image-app.sh OUT
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/image-app.sh OUT}
mkdir -p "$out/tarballs"
out=$(cd "$out" && pwd)

npm pack --workspaces --pack-destination "$out/tarballs" >/dev/null
# The sagas and the example services, compiled against the packages' declarations (tsc -b built them).
npx tsc -p sagas/tsconfig.json --outDir "$out/sagas" --composite false --declaration false --emitDeclarationOnly false
npx tsc -p examples/tsconfig.json --outDir "$out" --composite false --declaration false --emitDeclarationOnly false
find examples -name '*.json' ! -name tsconfig.json -exec cp --parents {} "$out" \;

cd "$out"
printf '{\n  "name": "sagaflow-image",\n  "private": true,\n  "type": "module"\n}\n' > package.json
# All tarballs at once: each @sagaflow/* dependency is satisfied by its tarball, not looked up in a registry.
npm install --omit=dev --no-audit --no-fund --loglevel=error ./tarballs/*.tgz
