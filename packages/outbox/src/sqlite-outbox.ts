import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { StartKind } from '@sagaflow/nats';
import {
  defaultOutboxTable,
  requestEncoder,
  tableName,
  type OutboxOptions,
  type OutboxRow,
  type OutboxStartOptions,
  type OutboxStore,
  type RequestFields,
  type SagaRef,
} from './outbox-request.js';

/** Options of {@link createSqliteOutbox}. */
export type SqliteOutboxOptions = OutboxOptions;

/**
 * A transactional outbox in a SQLite database: requests are written through the caller's
 * connection inside its transaction, and relayed to NATS by {@link createOutboxRelay}.
 */
export interface SqliteOutbox extends OutboxStore {
  /**
   * Writes a start request inside the caller's transaction on `tx` and returns the instance id.
   * The request is checked and serialised first: a bad payload throws here and fails the transaction.
   * @throws OutboxRequestError for an invalid request; TypeError outside a transaction.
   */
  start<I>(tx: Database.Database, saga: SagaRef, input: I, options?: OutboxStartOptions): string;
  /** Writes a prepare request (two-phase start) inside the caller's transaction; returns the instance id. */
  prepare<I>(tx: Database.Database, saga: SagaRef, input: I, options?: Pick<OutboxStartOptions, 'instanceId'>): string;
  /** Writes a confirm request inside the caller's transaction. */
  confirm(tx: Database.Database, saga: SagaRef, instanceId: string, options?: { readonly by?: string }): void;
  /** Writes a cancel request inside the caller's transaction. */
  cancel(tx: Database.Database, saga: SagaRef, instanceId: string, options?: { readonly by?: string; readonly reason?: string }): void;
  /** Deletes rows sent before `before` (epoch ms); returns how many. */
  purgeSent(before: number): Promise<number>;
}

interface RowRecord {
  id: number;
  msg_id: string;
  saga: string;
  kind: StartKind;
  instance_id: string;
  body: string;
  attempts: number;
  created_at: number;
}

/** Creates the outbox table (if missing) in `db` and returns the outbox. */
export function createSqliteOutbox(db: Database.Database, options: SqliteOutboxOptions = {}): SqliteOutbox {
  const table = options.table ?? defaultOutboxTable;
  const { schema, name, quoted } = tableName(table);
  db.exec(`CREATE TABLE IF NOT EXISTS ${quoted} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    msg_id TEXT NOT NULL,
    saga TEXT NOT NULL,
    kind TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    sent_at INTEGER
  )`);
  db.exec(`CREATE INDEX IF NOT EXISTS ${schema === null ? '' : `"${schema}".`}"${name}_pending" ON "${name}" (next_attempt_at, id) WHERE sent_at IS NULL`);
  const encode = requestEncoder(options.sagas);
  const insertSql = `INSERT INTO ${quoted} (msg_id, saga, kind, instance_id, body, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?)`;
  const inserts = new WeakMap<Database.Database, Database.Statement>();
  const claimRows = db.prepare<[number, number], RowRecord>(
    `SELECT id, msg_id, saga, kind, instance_id, body, attempts, created_at FROM ${quoted} WHERE sent_at IS NULL AND next_attempt_at <= ? ORDER BY id LIMIT ?`,
  );
  const lease = db.prepare<[number, number]>(`UPDATE ${quoted} SET next_attempt_at = ? WHERE id = ?`);
  const sent = db.prepare<[number, number]>(`UPDATE ${quoted} SET sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?`);
  const failed = db.prepare<[string, number, number]>(`UPDATE ${quoted} SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?`);
  const pending = db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${quoted} WHERE sent_at IS NULL`);
  const purge = db.prepare<[number]>(`DELETE FROM ${quoted} WHERE sent_at IS NOT NULL AND sent_at < ?`);

  const write = (tx: Database.Database, kind: StartKind, saga: SagaRef, instanceId: string, fields: RequestFields): string => {
    const encoded = encode(kind, saga, instanceId, fields);
    if (!tx.inTransaction) throw new TypeError(`outbox.${kind}(${instanceId}) must run inside the caller's transaction (db.transaction(...)), or the request is not atomic with it`);
    let insert = inserts.get(tx);
    if (insert === undefined) inserts.set(tx, (insert = tx.prepare(insertSql)));
    const now = Date.now();
    insert.run(encoded.msgId, encoded.saga, encoded.kind, encoded.instanceId, encoded.body, now, now);
    return encoded.instanceId;
  };

  const claim = db.transaction((limit: number, now: number, leaseMs: number): OutboxRow[] => {
    const rows = claimRows.all(now, limit);
    for (const row of rows) lease.run(now + leaseMs, row.id);
    return rows.map((row) => ({
      id: row.id,
      msgId: row.msg_id,
      saga: row.saga,
      kind: row.kind,
      instanceId: row.instance_id,
      body: row.body,
      attempts: row.attempts,
      createdAt: row.created_at,
    }));
  });
  const rescheduleAll = db.transaction((ids: readonly number[], at: number) => {
    for (const id of ids) lease.run(at, id);
  });

  return {
    table,
    start: (tx, saga, input, opts = {}) => write(tx, 'start', saga, opts.instanceId ?? randomUUID(), { input, ...(opts.startAt === undefined ? {} : { startAt: opts.startAt }) }),
    prepare: (tx, saga, input, opts = {}) => write(tx, 'prepare', saga, opts.instanceId ?? randomUUID(), { input }),
    confirm(tx, saga, instanceId, opts = {}) {
      write(tx, 'confirm', saga, instanceId, opts);
    },
    cancel(tx, saga, instanceId, opts = {}) {
      write(tx, 'cancel', saga, instanceId, opts);
    },
    // Inside a transaction still open on this connection (one held across awaits), rows it wrote are
    // not committed yet: claim nothing until it ends, or they could be published and then rolled back.
    claim: (limit, now, leaseMs) => Promise.resolve(db.inTransaction ? [] : claim.immediate(limit, now, leaseMs)),
    markSent: (id, now) => Promise.resolve(void sent.run(now, id)),
    markFailed: (id, error, nextAttemptAt) => Promise.resolve(void failed.run(error.slice(0, 2000), nextAttemptAt, id)),
    reschedule: (ids, at) => Promise.resolve(rescheduleAll.immediate(ids, at)),
    countPending: () => Promise.resolve(pending.get()?.n ?? 0),
    purgeSent: (before) => Promise.resolve(purge.run(before).changes),
  };
}
