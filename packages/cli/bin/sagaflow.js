#!/usr/bin/env node
// Saga files and Sagaflow's own packages are TypeScript: load them through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
