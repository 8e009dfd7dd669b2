import { defineConfig } from 'vitest/config';

/**
 * Test layers are chosen by file suffix so the fast layer never needs a server:
 * `*.unit.test.ts` (pure, in-memory), `*.int.test.ts` (real SQLite file, real processes),
 * `*.e2e.test.ts` (separate processes, crashes). The int and e2e layers share one `nats-server`
 * started for the run (or `NATS_URL`).
 */
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['packages/**/*.unit.test.ts', 'test/**/*.unit.test.ts', 'bench/**/*.unit.test.ts'] } },
      {
        test: {
          name: 'int',
          include: ['packages/**/*.int.test.ts', 'test/**/*.int.test.ts'],
          globalSetup: ['test/support/nats-global-setup.ts'],
          testTimeout: 30_000,
        },
      },
      {
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
