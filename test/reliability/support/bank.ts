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
import type { Naming } from '@sagaflow/nats';
import { serveCheckBack, type CheckBackServer } from '@sagaflow/worker';
import { runTwoPhaseStart, type LocalOutcome, type StartPoint, type StartResult } from '../../../examples/shared/two-phase-start.js';
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

/** Points in the upstream's flow, where a test (or the process's `--crash-at`) may step in: the shared ones, and `marked` (inside the transaction, after the commit marker). */
export type TransferPoint = StartPoint | 'marked';

/** What became of a transfer, as the upstream saw it. */
export type TransferResult = StartResult;

export class InsufficientFunds extends Error {}

/**
 * The two-phase start as an upstream runs it (`runTwoPhaseStart`, examples/shared/two-phase-start.ts):
 * prepare, then the local transaction — debit, commit marker, COMMIT (or ROLLBACK) — then confirm
 * or cancel; whatever is lost on the way, the check-back settles.
 */
export async function transferMoney(
  bank: Bank,
  nats: { readonly js: JetStreamClient; readonly names: Naming },
  input: TransferInput,
  options: { readonly at?: (point: TransferPoint) => Promise<void> | void; readonly publishTimeoutMs?: number } = {},
): Promise<TransferResult> {
  const at = options.at ?? (() => undefined);
  const instanceId = input.transferId;
  return runTwoPhaseStart(
    nats,
    { saga: 'transfer', instanceId, input, by: 'bank' },
    async (): Promise<LocalOutcome> => {
      const client = await bank.pool.connect();
      try {
        try {
          await client.query('BEGIN');
          const debited = await client.query(`UPDATE "${bank.schema}".accounts SET balance_cents = balance_cents - $2 WHERE id = $1 AND balance_cents >= $2`, [input.from, input.amountCents]);
          if (debited.rowCount !== 1) throw new InsufficientFunds(`${input.from} cannot pay ${input.amountCents}`);
          await client.query(`INSERT INTO "${bank.schema}".debits (transfer_id, account, amount_cents) VALUES ($1, $2, $3)`, [input.transferId, input.from, input.amountCents]);
          await bank.barrier.markCommitted(client, instanceId);
          await at('marked');
        } catch {
          await client.query('ROLLBACK').catch(() => undefined);
          return { committed: false, reason: 'the debit was rolled back' };
        }
        await client.query('COMMIT'); // throws when it cannot tell whether it committed: the check-back settles it
        return { committed: true };
      } finally {
        client.release();
      }
    },
    options,
  );
}

/** Answers the engine's check-backs for `transfer` from the bank's markers. */
export function serveBankCheckBacks(bank: Bank, connection: NatsConnection, namespace: string): Promise<CheckBackServer> {
  return serveCheckBack({ connection, namespace, saga: 'transfer', check: (instanceId) => bank.barrier.checkBack(instanceId) });
}
