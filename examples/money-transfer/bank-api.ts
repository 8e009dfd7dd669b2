import Database from 'better-sqlite3';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { createSqliteBarrier, type SqliteBarrier } from '@sagaflow/barrier';
import { naming } from '@sagaflow/nats';
import { serveCheckBack, type CheckBackServer } from '@sagaflow/worker';
import moneyTransfer, { type TransferInput } from '../../sagas/money-transfer.saga.js';
import { runTwoPhaseStart, type StartPoint, type StartResult } from '../shared/two-phase-start.js';
import { sourceSchema } from './bank-services.js';

/**
 * The source bank's API side: the upstream of the money-transfer saga. For each transfer it
 * prepares the saga, takes the money off the payer's account in its own transaction (on the
 * source bank's database, with the commit marker in the same transaction), then confirms — or
 * cancels when the transaction rolled back (insufficient funds). It answers the engine's
 * check-backs from the markers, so a transfer whose confirm or cancel was lost (the process died)
 * is settled exactly: run iff the debit committed.
 */
export interface BankApi {
  /** Runs one transfer. `at` is told of each point of the two-phase start, and of `marked` (inside the transaction, after the commit marker: it must not await). */
  transfer(input: TransferInput, at?: (point: StartPoint | 'marked') => void): Promise<StartResult>;
  /** Serves the engine's check-backs for money-transfer until stopped. */
  serveCheckBacks(): Promise<CheckBackServer>;
  close(): void;
}

/** The API side's name in the transfers' confirm and cancel events. */
export const bankApiName = 'source-bank';

export class InsufficientFunds extends Error {
  constructor(input: TransferInput) {
    super(`${input.from} cannot pay ${input.amountCents} for ${input.transferId}`);
    this.name = 'InsufficientFunds';
  }
}

/** Opens the source bank's database (shared with its worker) and the barrier whose markers answer check-backs. */
export function openBankApi(path: string, nats: { readonly connection: NatsConnection; readonly namespace?: string }): BankApi {
  const db = new Database(path);
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(sourceSchema);
  const barrier: SqliteBarrier = createSqliteBarrier(db);
  const names = naming(nats.namespace);
  const js = jetstream(nats.connection);

  /** The local transaction: debit if the funds suffice, record the transfer, write the commit marker. `BEGIN IMMEDIATE`: it waits for the worker's writes. */
  const debit = db.transaction((input: TransferInput, marked: () => void) => {
    const debited = db.prepare('UPDATE accounts SET balance_cents = balance_cents - ? WHERE id = ? AND balance_cents >= ?').run(input.amountCents, input.from, input.amountCents);
    if (debited.changes !== 1) throw new InsufficientFunds(input);
    db.prepare("INSERT INTO transfers (transfer_id, account, payee, amount_cents, status) VALUES (?, ?, ?, ?, 'debited')").run(input.transferId, input.from, input.to, input.amountCents);
    barrier.markCommitted(db, input.transferId); // throws StartRolledBackError if a check-back got here first: the transaction rolls back
    marked();
  });

  return {
    transfer: (input, at = () => undefined) =>
      runTwoPhaseStart({ js, names }, { saga: moneyTransfer.name, instanceId: input.transferId, input, by: bankApiName }, () => {
        try {
          debit.immediate(input, () => at('marked'));
          return { committed: true };
        } catch (error) {
          return { committed: false, reason: error instanceof Error ? error.message : String(error) }; // SQLite rolled it back
        }
      }, { at }),
    serveCheckBacks: () => serveCheckBack({ connection: nats.connection, namespace: nats.namespace, saga: moneyTransfer, check: (instanceId) => barrier.checkBack(instanceId) }),
    close: () => db.close(),
  };
}
