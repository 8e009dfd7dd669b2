import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const packages = fileURLToPath(new URL('packages/', import.meta.url));

/**
 * Test layers are chosen by file suffix so the fast layer never needs a server:
 * `*.unit.test.ts` (pure, in-memory), `*.int.test.ts` (real SQLite file, real processes),
 * `*.e2e.test.ts` (separate processes, crashes). The int and e2e layers share one `nats-server`
 * started for the run (or `NATS_URL`).
 *
 * Tests run on the sources: `@sagaflow/*` resolve to `packages/<name>/src` (as the root
 * tsconfig.json's paths do for tsx), not to the compiled `dist/` a user installs, which
 * test/install.e2e.test.ts runs.
 */
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@sagaflow\/([a-z-]+)$/u, replacement: `${packages}$1/src/index.ts` },
      { find: /^sagaflow$/u, replacement: `${packages}sagaflow/src/index.ts` },
    ],
  },
  test: {
    // Two test files at a time on the 2-core CI machine (Vitest's default leaves a core to its own
    // process, which runs almost nothing): most files wait on servers and child processes.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: ['packages/**/*.unit.test.ts', 'test/**/*.unit.test.ts', 'bench/**/*.unit.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'int',
          include: ['packages/**/*.int.test.ts', 'test/**/*.int.test.ts'],
          globalSetup: ['test/support/nats-global-setup.ts'],
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/**/*.e2e.test.ts'],
          globalSetup: ['test/support/nats-global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
