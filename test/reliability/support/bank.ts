/**
 * The upstream of the reliability tests: a bank service on PostgreSQL whose local transaction
 * debits the payer and marks the transfer committed, around a two-phase start of the `transfer`
 * saga. Used in process by the tests and by `upstream-process.ts`, which can be killed between
 * any two steps.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type pg from 'pg';
import { createPgBarrier, type PgBarrier } from '@sagaflow/barrier';
import { requestCancel, requestConfirm, requestPrepare, type Naming } from '@sagaflow/nats';
import { serveCheckBack, type CheckBackServer } from '@sagaflow/worker';
import type { TransferInput } from './sagas.js';

/** The bank's tables, in a schema of their own. */
export interface Bank {
  readonly pool: pg.Pool;
  readonly schema: string;
  readonly barrier: PgBarrier;
  /** Debits recorded for a transfer (committed ones). */
  debitsOf(transferId: string): Promise<number>;
  balance(account: string): Promise<number>;
}

export async function openBank(pool: pg.Pool, schema: string): Promise<Bank> {
  await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  await pool.query(`CREATE TABLE IF NOT EXISTS "${schema}".accounts (id text PRIMARY KEY, balance_cents bigint NOT NULL)`);
  await pool.query(`CREATE TABLE IF NOT EXISTS "${schema}".debits (transfer_id text PRIMARY KEY, account text NOT NULL, amount_cents bigint NOT NULL)`);
  const barrier = createPgBarrier(pool, { table: `${schema}.sagaflow_barrier` });
  await barrier.ensureSchema();
  return {
    pool,
    schema,
    barrier,
    debitsOf: async (transferId) => (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".debits WHERE transfer_id = $1`, [transferId])).rows[0]?.n ?? 0,
    balance: async (account) => Number((await pool.query<{ b: string }>(`SELECT balance_cents AS b FROM "${schema}".accounts WHERE id = $1`, [account])).rows[0]?.b ?? NaN),
  };
}

export async function openAccount(bank: Bank, account: string, balanceCents: number): Promise<void> {
  await bank.pool.query(`INSERT INTO "${bank.schema}".accounts (id, balance_cents) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET balance_cents = $2`, [account, balanceCents]);
}

/** Points in the upstream's flow, where a test (or the process's `--crash-at`) may step in. */
export type TransferPoint = 'prepared' | 'marked' | 'committed' | 'rolledBack';

/** What became of a transfer, as the upstream saw it. */
export type TransferResult =
  | { readonly outcome: 'notStarted'; readonly error: string }
  | { readonly outcome: 'confirmed' | 'cancelled' }
  | { readonly outcome: 'unsent'; readonly after: 'committed' | 'rolledBack'; readonly error: string };

export class InsufficientFunds extends Error {}

/**
 * The two-phase start as an upstream runs it:
 * 1. prepare (pre-send): if it fails or is not answered, stop — if it was stored after all, the
 *    check-back finds no commit marker and cancels it;
 * 2. the local transaction: debit, commit marker, COMMIT (or ROLLBACK);
 * 3. confirm after a commit, cancel after a rollback — if that is lost, the check-back settles it.
 */
export async function transferMoney(
  bank: Bank,
  nats: { readonly js: JetStreamClient; readonly names: Naming },
  input: TransferInput,
  options: { readonly at?: (point: TransferPoint) => Promise<void> | void; readonly publishTimeoutMs?: number } = {},
): Promise<TransferResult> {
  const at = options.at ?? (() => undefined);
  const publish = options.publishTimeoutMs === undefined ? {} : { timeoutMs: options.publishTimeoutMs };
  const saga = 'transfer';
  const instanceId = input.transferId;
  try {
    await requestPrepare(nats.js, nats.names, { saga, instanceId, input }, publish);
  } catch (error) {
    return { outcome: 'notStarted', error: error instanceof Error ? error.message : String(error) };
  }
  await at('prepared');
  const client = await bank.pool.connect();
  let committed = false;
  try {
    await client.query('BEGIN');
    const debited = await client.query(`UPDATE "${bank.schema}".accounts SET balance_cents = balance_cents - $2 WHERE id = $1 AND balance_cents >= $2`, [input.from, input.amountCents]);
    if (debited.rowCount !== 1) throw new InsufficientFunds(`${input.from} cannot pay ${input.amountCents}`);
    await client.query(`INSERT INTO "${bank.schema}".debits (transfer_id, account, amount_cents) VALUES ($1, $2, $3)`, [input.transferId, input.from, input.amountCents]);
    await bank.barrier.markCommitted(client, instanceId);
    await at('marked');
    await client.query('COMMIT');
    committed = true;
  } catch {
    await client.query('ROLLBACK').catch(() => undefined);
  } finally {
    client.release();
  }
  await at(committed ? 'committed' : 'rolledBack');
  try {
    if (committed) await requestConfirm(nats.js, nats.names, { saga, instanceId, by: 'bank' }, publish);
    else await requestCancel(nats.js, nats.names, { saga, instanceId, by: 'bank', reason: 'the debit was rolled back' }, publish);
  } catch (error) {
    return { outcome: 'unsent', after: committed ? 'committed' : 'rolledBack', error: error instanceof Error ? error.message : String(error) };
  }
  return { outcome: committed ? 'confirmed' : 'cancelled' };
}

/** Answers the engine's check-backs for `transfer` from the bank's markers. */
export function serveBankCheckBacks(bank: Bank, connection: NatsConnection, namespace: string): Promise<CheckBackServer> {
  return serveCheckBack({ connection, namespace, saga: 'transfer', check: (instanceId) => bank.barrier.checkBack(instanceId) });
}
