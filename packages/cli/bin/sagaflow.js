#!/usr/bin/env node
// The sagaflow command, as compiled JavaScript. With --verbose, stack traces point into the
// TypeScript sources (the source maps carry them); otherwise no source map is read.
import process from 'node:process';

if (process.argv.includes('--verbose')) process.setSourceMapsEnabled(true);
await import('../dist/main.js');
