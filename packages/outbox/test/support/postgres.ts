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

/**
 * Connects and creates a unique schema.
 * @throws Error naming the URL (password masked) when PostgreSQL is unreachable: these tests fail, never skip.
 */
export async function openPgTestEnv(prefix = 'outbox_test'): Promise<PgTestEnv> {
  const pool = new pg.Pool({ connectionString: pgUrl, max: 10, connectionTimeoutMillis: 5_000 });
  const schema = `${prefix}_${randomUUID().replaceAll('-', '')}`;
  try {
    await pool.query(`CREATE SCHEMA "${schema}"`);
  } catch (error) {
    await pool.end();
    const reason = error instanceof Error ? error.message || error.name : String(error);
    throw new Error(`PostgreSQL is required and is unreachable at ${pgUrl.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')} (${reason}). Start it, or set SAGAFLOW_TEST_PG_URL.`);
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
