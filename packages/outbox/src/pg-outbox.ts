import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
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

/** Options of {@link createPgOutbox}. */
export type PgOutboxOptions = OutboxOptions;

/** The client running the caller's transaction (between its `BEGIN` and `COMMIT`). */
export type PgTransaction = Pick<PoolClient, 'query'>;

/**
 * A transactional outbox in PostgreSQL: requests are written through the client that runs the
 * caller's transaction, and relayed to NATS by {@link createOutboxRelay} (over the pool).
 */
export interface PgOutbox extends OutboxStore {
  /** Creates the outbox table and its index if missing. */
  ensureSchema(): Promise<void>;
  /**
   * Writes a start request inside the caller's transaction and resolves with the instance id.
   * The request is checked and serialised before any SQL runs: a bad payload rejects here, and the
   * caller rolls its transaction back.
   * @throws OutboxRequestError for an invalid request.
   */
  start<I>(tx: PgTransaction, saga: SagaRef, input: I, options?: OutboxStartOptions): Promise<string>;
  /** Writes a prepare request (two-phase start) inside the caller's transaction; resolves with the instance id. */
  prepare<I>(tx: PgTransaction, saga: SagaRef, input: I, options?: Pick<OutboxStartOptions, 'instanceId'>): Promise<string>;
  /** Writes a confirm request inside the caller's transaction. */
  confirm(tx: PgTransaction, saga: SagaRef, instanceId: string, options?: { readonly by?: string }): Promise<void>;
  /** Writes a cancel request inside the caller's transaction. */
  cancel(tx: PgTransaction, saga: SagaRef, instanceId: string, options?: { readonly by?: string; readonly reason?: string }): Promise<void>;
  /** Deletes rows sent before `before` (epoch ms); resolves with how many. */
  purgeSent(before: number): Promise<number>;
}

interface RowRecord {
  id: string;
  msg_id: string;
  saga: string;
  kind: StartKind;
  instance_id: string;
  body: string;
  attempts: number;
  created_at: string;
}

/** Creates the outbox on `pool`; call {@link PgOutbox.ensureSchema} once before use. */
export function createPgOutbox(pool: Pool, options: PgOutboxOptions = {}): PgOutbox {
  const table = options.table ?? defaultOutboxTable;
  const { name, quoted } = tableName(table);
  const encode = requestEncoder(options.sagas);
  const columns = 'id, msg_id, saga, kind, instance_id, body, attempts, created_at';
  const sql = {
    create: `CREATE TABLE IF NOT EXISTS ${quoted} (
      id bigserial PRIMARY KEY,
      msg_id text NOT NULL,
      saga text NOT NULL,
      kind text NOT NULL,
      instance_id text NOT NULL,
      body text NOT NULL,
      created_at bigint NOT NULL,
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at bigint NOT NULL,
      last_error text,
      sent_at bigint
    )`,
    index: `CREATE INDEX IF NOT EXISTS "${name}_pending" ON ${quoted} (next_attempt_at, id) WHERE sent_at IS NULL`,
    insert: `INSERT INTO ${quoted} (msg_id, saga, kind, instance_id, body, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $6)`,
    // Several relays may share the outbox: each claims rows no other holds (SKIP LOCKED), with a lease.
    claim: `UPDATE ${quoted} SET next_attempt_at = $3 WHERE id IN (
      SELECT id FROM ${quoted} WHERE sent_at IS NULL AND next_attempt_at <= $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED
    ) RETURNING ${columns}`,
    sent: `UPDATE ${quoted} SET sent_at = $2, attempts = attempts + 1, last_error = NULL WHERE id = $1`,
    failed: `UPDATE ${quoted} SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3 WHERE id = $1`,
    reschedule: `UPDATE ${quoted} SET next_attempt_at = $2 WHERE id = ANY($1::bigint[]) AND sent_at IS NULL`,
    pending: `SELECT count(*)::int AS n FROM ${quoted} WHERE sent_at IS NULL`,
    purge: `DELETE FROM ${quoted} WHERE sent_at IS NOT NULL AND sent_at < $1`,
  };

  const write = async (tx: PgTransaction, kind: StartKind, saga: SagaRef, instanceId: string, fields: RequestFields): Promise<string> => {
    const encoded = encode(kind, saga, instanceId, fields);
    const now = Date.now();
    await tx.query(sql.insert, [encoded.msgId, encoded.saga, encoded.kind, encoded.instanceId, encoded.body, now]);
    return encoded.instanceId;
  };

  return {
    table,
    async ensureSchema() {
      for (const statement of [sql.create, sql.index]) {
        try {
          await pool.query(statement);
        } catch (error) {
          // Two processes creating it at once: one wins, the other sees a duplicate.
          const code = (error as { code?: unknown }).code;
          if (code !== '23505' && code !== '42P07') throw error;
        }
      }
    },
    start: (tx, saga, input, opts = {}) => write(tx, 'start', saga, opts.instanceId ?? randomUUID(), { input, ...(opts.startAt === undefined ? {} : { startAt: opts.startAt }) }),
    prepare: (tx, saga, input, opts = {}) => write(tx, 'prepare', saga, opts.instanceId ?? randomUUID(), { input }),
    async confirm(tx, saga, instanceId, opts = {}) {
      await write(tx, 'confirm', saga, instanceId, opts);
    },
    async cancel(tx, saga, instanceId, opts = {}) {
      await write(tx, 'cancel', saga, instanceId, opts);
    },
    async claim(limit, now, leaseMs) {
      const { rows } = await pool.query<RowRecord>(sql.claim, [now, limit, now + leaseMs]);
      return rows
        .map(
          (row): OutboxRow => ({
            id: Number(row.id),
            msgId: row.msg_id,
            saga: row.saga,
            kind: row.kind,
            instanceId: row.instance_id,
            body: row.body,
            attempts: row.attempts,
            createdAt: Number(row.created_at),
          }),
        )
        .sort((a, b) => a.id - b.id);
    },
    async markSent(id, now) {
      await pool.query(sql.sent, [id, now]);
    },
    async markFailed(id, error, nextAttemptAt) {
      await pool.query(sql.failed, [id, error.slice(0, 2000), nextAttemptAt]);
    },
    async reschedule(ids, at) {
      if (ids.length > 0) await pool.query(sql.reschedule, [ids, at]);
    },
    async countPending() {
      const { rows } = await pool.query<{ n: number }>(sql.pending);
      return rows[0]?.n ?? 0;
    },
    async purgeSent(before) {
      return (await pool.query(sql.purge, [before])).rowCount ?? 0;
    },
  };
}
