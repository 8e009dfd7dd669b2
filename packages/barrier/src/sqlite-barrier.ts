import type Database from 'better-sqlite3';
import { checkEffect, forwardKeyOf, type BarrierEffect } from './barrier-key.js';
import { Rollback, compensatedMarker, decodeOutcome, encodeOutcome, failureOf, nullCompensation, type Outcome } from './outcome.js';
import { checkInstanceId, committedMarker, markerOutcome, rolledBackMarker, startMarkerKey, StartRolledBackError, type CheckBackOutcome } from './start-marker.js';
import { defaultBarrierTable, quoteTableName } from './table-name.js';

/** Options of {@link createSqliteBarrier}. */
export interface SqliteBarrierOptions {
  /** Barrier table, `table` or `schema.table`; default `sagaflow_barrier`. */
  readonly table?: string;
}

/** Business code under a SQLite barrier: synchronous, writes through `db`, returns the reply. */
export type SqliteBusiness = (db: Database.Database) => unknown;

/** A barrier over a better-sqlite3 connection. */
export interface SqliteBarrier {
  /** The barrier table's name. */
  readonly table: string;
  /**
   * Runs `business` at most once per `effect.key`, in one transaction with the barrier row.
   * Returns the stored outcome for a duplicate, a null compensation or a refused hanging operation;
   * a retryable failure when `business` throws anything but a non-retryable {@link StepFailure}.
   * @throws TypeError for a malformed effect, a `business` that returns a promise, or a reply JSON cannot hold.
   */
  run(effect: BarrierEffect, business: SqliteBusiness): Outcome;
  /** The stored outcome for `key`, if a transaction committed one. */
  find(key: string): Outcome | undefined;
  /**
   * Two-phase start: writes the commit marker of `instanceId` inside the upstream's local
   * transaction on `tx` (a connection to the same file, inside `db.transaction(...)`).
   * @throws StartRolledBackError when a check-back already wrote the rollback marker: let it fail the transaction.
   * @throws TypeError outside a transaction, or for an empty instance id.
   */
  markCommitted(tx: Database.Database, instanceId: string): void;
  /**
   * Answers a check-back in a transaction of its own (`BEGIN IMMEDIATE`: it waits, up to the
   * connection's busy timeout, for a writer in progress): `committed` if the commit marker is
   * there, else writes the rollback marker and answers `rolledBack`.
   * @throws Error when called inside a transaction on this connection (it would see that transaction's
   * own uncommitted marker: give the check-back responder a connection of its own), or when the file stays busy.
   */
  checkBack(instanceId: string): CheckBackOutcome;
}

/**
 * Creates a barrier on `db`, creating its table if missing. Transactions are `BEGIN IMMEDIATE`
 * (savepoints when `db` is already in a transaction), so processes sharing the file are serialised.
 * @throws TypeError for an invalid table name.
 */
export function createSqliteBarrier(db: Database.Database, options: SqliteBarrierOptions = {}): SqliteBarrier {
  const table = options.table ?? defaultBarrierTable;
  const quoted = quoteTableName(table);
  db.exec(`CREATE TABLE IF NOT EXISTS ${quoted} (
    key TEXT PRIMARY KEY NOT NULL,
    outcome TEXT NOT NULL,
    recorded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  )`);
  const select = db.prepare<[string], { outcome: string }>(`SELECT outcome FROM ${quoted} WHERE key = ?`);
  const insert = db.prepare<[string, string]>(`INSERT INTO ${quoted} (key, outcome) VALUES (?, ?)`);

  const find = (key: string): Outcome | undefined => {
    const row = select.get(key);
    return row === undefined ? undefined : decodeOutcome(key, row.outcome);
  };
  /** Stores an outcome and answers it as a duplicate would see it (after the JSON round trip). */
  const record = (key: string, outcome: Outcome): Outcome => {
    const text = encodeOutcome(key, outcome);
    insert.run(key, text);
    return decodeOutcome(key, text);
  };
  const savepoint = db.transaction((key: string, business: SqliteBusiness): unknown => {
    const reply = business(db);
    if (isThenable(reply)) {
      reply.then(undefined, () => undefined);
      throw new AsyncBusiness(`Business code for ${key} returned a promise: SQLite barrier business code must be synchronous`);
    }
    return reply;
  });

  const guarded = db.transaction((effect: BarrierEffect, business: SqliteBusiness): Outcome => {
    const stored = find(effect.key);
    if (stored !== undefined) return stored;
    if (effect.kind === 'compensation') {
      const forwardKey = forwardKeyOf(effect.key);
      const forward = find(forwardKey);
      if (forward === undefined) record(forwardKey, compensatedMarker(forwardKey));
      if (forward === undefined || !forward.ok) return record(effect.key, nullCompensation);
    }
    let outcome: Outcome;
    try {
      outcome = { ok: true, reply: savepoint(effect.key, business) };
    } catch (error) {
      if (error instanceof AsyncBusiness) throw error;
      const failure = failureOf(error);
      if (failure.error.retryable === true) throw new Rollback(failure);
      // SQLite itself ended the transaction (e.g. disk full): nothing can be stored, so let it be retried.
      if (!db.inTransaction) throw new Rollback({ ok: false, error: { ...failure.error, retryable: true } });
      outcome = failure;
    }
    return record(effect.key, outcome);
  });

  const answerCheckBack = db.transaction((instanceId: string): CheckBackOutcome => {
    const key = startMarkerKey(instanceId);
    const stored = find(key);
    if (stored !== undefined) return markerOutcome(stored);
    record(key, rolledBackMarker(instanceId));
    return 'rolledBack';
  });

  return {
    table,
    markCommitted(tx, instanceId) {
      checkInstanceId(instanceId);
      if (!tx.inTransaction) throw new TypeError(`markCommitted(${instanceId}) must run inside the local transaction it marks (db.transaction(...))`);
      const key = startMarkerKey(instanceId);
      const inserted = tx.prepare(`INSERT INTO ${quoted} (key, outcome) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`).run(key, encodeOutcome(key, committedMarker));
      if (inserted.changes === 1) return;
      const row = tx.prepare<[string], { outcome: string }>(`SELECT outcome FROM ${quoted} WHERE key = ?`).get(key);
      if (row === undefined || !decodeOutcome(key, row.outcome).ok) throw new StartRolledBackError(instanceId);
    },
    checkBack(instanceId) {
      checkInstanceId(instanceId);
      if (db.inTransaction) {
        throw new Error(`checkBack(${instanceId}) cannot run inside a transaction on its own connection: it would see that transaction's uncommitted marker. Give the check-back responder a connection of its own.`);
      }
      return answerCheckBack.immediate(instanceId);
    },
    run(effect, business) {
      checkEffect(effect);
      if (typeof business !== 'function') throw new TypeError('Barrier business must be a function');
      try {
        return guarded.immediate(effect, business);
      } catch (error) {
        if (error instanceof Rollback) return error.outcome;
        throw error;
      }
    },
    find,
  };
}

/** A usage error, thrown out of `run` rather than turned into a retryable outcome. */
class AsyncBusiness extends TypeError {}

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
