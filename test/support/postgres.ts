import { randomUUID } from 'node:crypto';
import pg from 'pg';

/** The test database: `SAGAFLOW_TEST_PG_URL`, or a local trust-auth server. */
export const pgUrl = process.env.SAGAFLOW_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A pool on the test database plus a schema of its own, dropped by `close`. */
export interface PgTestEnv {
  readonly pool: pg.Pool;
  readonly schema: string;
  close(): Promise<void>;
}

const redacted = (url: string): string => url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');

/**
 * Connects and creates a unique schema (named `<prefix>_<random>`) for this test run.
 * @throws Error naming the URL (password masked) when PostgreSQL is unreachable: these tests fail, never skip.
 */
export async function openPgTestEnv(prefix = 'sagaflow_test'): Promise<PgTestEnv> {
  const pool = new pg.Pool({ connectionString: pgUrl, max: 10, connectionTimeoutMillis: 5_000 });
  const schema = `${prefix}_${randomUUID().replaceAll('-', '')}`;
  try {
    await pool.query(`CREATE SCHEMA "${schema}"`);
  } catch (error) {
    await pool.end();
    const reason = error instanceof Error ? error.message || error.name : String(error);
    throw new Error(`PostgreSQL is required for these tests and is unreachable at ${redacted(pgUrl)} (${reason}). Start it, or set SAGAFLOW_TEST_PG_URL.`);
  }
  return {
    pool,
    schema,
    async close() {
      try {
        await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await pool.end();
      }
    },
  };
}

/** Resolves once another backend waits on a lock while running a statement that mentions `table`. */
export async function untilBlockedOn(pool: pg.Pool, table: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND position($1 in query) > 0`,
      [table],
    );
    if ((rows[0]?.n ?? 0) > 0) return;
    if (Date.now() > deadline) throw new Error(`No delivery blocked on ${table} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
