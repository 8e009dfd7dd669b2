#!/usr/bin/env node
// The sagaflow command of @sagaflow/cli, so that `npx sagaflow …` runs it from this package.
await import('@sagaflow/cli/bin');
