import type { Pool, PoolClient } from 'pg';
import { checkEffect, forwardKeyOf, type BarrierEffect } from './barrier-key.js';
import { Rollback, compensatedMarker, decodeOutcome, encodeOutcome, failureOf, nullCompensation, type Outcome } from './outcome.js';
import { checkInstanceId, committedMarker, markerOutcome, rolledBackMarker, startMarkerKey, StartRolledBackError, type CheckBackOutcome } from './start-marker.js';
import { defaultBarrierTable, quoteTableName } from './table-name.js';

/** Options of {@link createPgBarrier}. */
export interface PgBarrierOptions {
  /** Barrier table, `table` or `schema.table`; default `sagaflow_barrier`. */
  readonly table?: string;
}

/** Business code under a PostgreSQL barrier: writes through `client` (inside the transaction), resolves to the reply. */
export type PgBusiness = (client: PoolClient) => Promise<unknown>;

/** A barrier over a `pg` pool. */
export interface PgBarrier {
  /** The barrier table's name. */
  readonly table: string;
  /** Creates the barrier table if missing. */
  ensureSchema(): Promise<void>;
  /**
   * Runs `business` at most once per `effect.key`, in one READ COMMITTED transaction with the
   * barrier row, on a client of its own. A concurrent delivery of the same key waits for the first
   * and answers its stored outcome. Outcomes as for {@link SqliteBarrier.run}.
   * @throws TypeError for a malformed effect or a reply JSON cannot hold; database errors of the barrier itself.
   */
  run(effect: BarrierEffect, business: PgBusiness): Promise<Outcome>;
  /** The stored outcome for `key`, if a transaction committed one. */
  find(key: string): Promise<Outcome | undefined>;
  /**
   * Two-phase start: writes the commit marker of `instanceId` inside the upstream's local
   * transaction, through the client that runs it (between its `BEGIN` and `COMMIT`). A concurrent
   * check-back waits for that transaction to end.
   * @throws StartRolledBackError when a check-back already wrote the rollback marker; the transaction
   * is then aborted in the server (a later `COMMIT` rolls it back): roll it back.
   */
  markCommitted(tx: Queryable, instanceId: string): Promise<void>;
  /**
   * Answers a check-back in a transaction of its own: `committed` if the commit marker is there;
   * else writes the rollback marker and answers `rolledBack`. If the upstream's transaction has
   * written its commit marker but not yet committed, this waits for it to end.
   */
  checkBack(instanceId: string): Promise<CheckBackOutcome>;
}

/** Anything that runs a query: a pool, a client (inside a transaction, for `markCommitted`). */
export type Queryable = Pick<PoolClient, 'query'>;

/**
 * Creates a barrier on `pool`; call {@link PgBarrier.ensureSchema} once before use.
 * @throws TypeError for an invalid table name.
 */
export function createPgBarrier(pool: Pool, options: PgBarrierOptions = {}): PgBarrier {
  const table = options.table ?? defaultBarrierTable;
  const quoted = quoteTableName(table);
  const sql = {
    // `outcome` is NULL only inside the transaction that claimed the key, so never visible to others.
    create: `CREATE TABLE IF NOT EXISTS ${quoted} (key text PRIMARY KEY, outcome json, recorded_at timestamptz NOT NULL DEFAULT now())`,
    // ON CONFLICT waits for a concurrent claim of the same key to end: no unique violation, no double run.
    claim: `INSERT INTO ${quoted} (key, outcome) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING key`,
    select: `SELECT outcome::text AS outcome FROM ${quoted} WHERE key = $1`,
    settle: `UPDATE ${quoted} SET outcome = $2 WHERE key = $1`,
  };
  const savepoint = 'sagaflow_barrier_business';
  const abort = `DO $$ BEGIN RAISE EXCEPTION 'sagaflow: a check-back rolled back the start this transaction prepared; it cannot commit'; END $$`;

  const find = async (db: Queryable, key: string): Promise<Outcome | undefined> => {
    const { rows } = await db.query<{ outcome: string | null }>(sql.select, [key]);
    const row = rows[0];
    if (row === undefined) return undefined;
    if (row.outcome === null) throw new Error(`Corrupt barrier row for ${key}: committed without an outcome`);
    return decodeOutcome(key, row.outcome);
  };
  const claim = async (db: Queryable, key: string, outcome: Outcome | null): Promise<boolean> => {
    const { rows } = await db.query(sql.claim, [key, outcome === null ? null : encodeOutcome(key, outcome)]);
    return rows.length === 1;
  };
  const storedAfterConflict = async (db: Queryable, key: string): Promise<Outcome> => {
    const stored = await find(db, key);
    if (stored === undefined) throw new Error(`Barrier row for ${key} conflicted but is gone (deleted concurrently?)`);
    return stored;
  };
  /** Stores the outcome on the claimed row and answers it as a duplicate would see it. */
  const settle = async (db: Queryable, key: string, outcome: Outcome): Promise<Outcome> => {
    const text = encodeOutcome(key, outcome);
    await db.query(sql.settle, [key, text]);
    return decodeOutcome(key, text);
  };

  const guarded = async (client: PoolClient, effect: BarrierEffect, business: PgBusiness): Promise<Outcome> => {
    if (!(await claim(client, effect.key, null))) return storedAfterConflict(client, effect.key);
    if (effect.kind === 'compensation') {
      const forwardKey = forwardKeyOf(effect.key);
      // Marks the forward key first: a late forward operation is refused, a running one is waited for.
      if (await claim(client, forwardKey, compensatedMarker(forwardKey))) return settle(client, effect.key, nullCompensation);
      if (!(await storedAfterConflict(client, forwardKey)).ok) return settle(client, effect.key, nullCompensation);
    }
    await client.query(`SAVEPOINT ${savepoint}`);
    let outcome: Outcome;
    try {
      outcome = { ok: true, reply: await business(client) };
    } catch (error) {
      const failure = failureOf(error);
      if (failure.error.retryable === true) throw new Rollback(failure);
      await client.query(`ROLLBACK TO SAVEPOINT ${savepoint}`);
      outcome = failure;
    }
    await client.query(`RELEASE SAVEPOINT ${savepoint}`);
    return settle(client, effect.key, outcome);
  };

  return {
    table,
    async markCommitted(tx, instanceId) {
      checkInstanceId(instanceId);
      const key = startMarkerKey(instanceId);
      if (await claim(tx, key, committedMarker)) return;
      const stored = await find(tx, key);
      if (stored !== undefined && stored.ok) return;
      // Abort the transaction in the server too: a caller that catches the error cannot commit it by mistake.
      await tx.query(abort).catch(() => undefined);
      throw new StartRolledBackError(instanceId);
    },
    async checkBack(instanceId) {
      checkInstanceId(instanceId);
      const key = startMarkerKey(instanceId);
      // One statement, its own transaction: waits for an upstream transaction holding the key.
      if (await claim(pool, key, rolledBackMarker(instanceId))) return 'rolledBack';
      return markerOutcome(await storedAfterConflict(pool, key));
    },
    async ensureSchema() {
      try {
        await pool.query(sql.create);
      } catch (error) {
        // Two processes creating the table at once: one wins, the other sees a duplicate.
        const code = (error as { code?: unknown }).code;
        if (code !== '23505' && code !== '42P07') throw error;
      }
    },
    async run(effect, business) {
      checkEffect(effect);
      if (typeof business !== 'function') throw new TypeError('Barrier business must be a function');
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
        const outcome = await guarded(client, effect, business);
        await client.query('COMMIT');
        return outcome;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        }
        if (error instanceof Rollback) return error.outcome;
        throw error;
      } finally {
        client.release(broken);
      }
    },
    find: (key) => find(pool, key),
  };
}
