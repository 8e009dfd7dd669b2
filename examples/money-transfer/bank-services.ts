import Database from 'better-sqlite3';
import { forwardKeyOf, StepFailure } from '@sagaflow/barrier';
import type { DispatchEffect } from '@sagaflow/core';
import type { TransferInput } from '../../sagas/money-transfer.saga.js';
import { openGuardedServices, type Business, type GuardedServices } from '../shared/guarded-services.js';

/**
 * The two banks of the money-transfer saga, each on its own SQLite file behind the idempotency
 * barrier. The source bank's database is shared by its API side (bank-api.ts: the upstream, whose
 * transaction takes the money off the payer's account and starts the saga) and its worker
 * (`recordDebit`, `refundDebit`, `settleTransfer`); the destination bank's worker credits payees
 * (`creditDestination`, `reverseCredit`).
 */

/** The accounts both banks open with, in cents. `src-low` cannot pay any transfer that reaches for it; `dst-closed` refuses credits. */
export const openingBalances = {
  source: { 'src-0': 1_000_000, 'src-1': 1_000_000, 'src-2': 1_000_000, 'src-3': 1_000_000, 'src-4': 1_000_000, 'src-low': 1_000 },
  destination: { 'dst-0': 50_000, 'dst-1': 50_000, 'dst-2': 50_000, 'dst-3': 50_000, 'dst-closed': 0 },
} as const satisfies Record<string, Record<string, number>>;
const closedAccounts: readonly string[] = ['dst-closed'];

/** Where the upstream process running a transfer kills itself (SIGKILL): inside its transaction, after the commit marker; or right after COMMIT, before confirming. */
export type UpstreamCrash = 'before-commit' | 'after-commit';

/** Failure schedule, by transfer number. `lacksFunds` and `closedDestination` do not overlap, nor `before-commit` with either. */
export const transferPlan = {
  /** A fifth: from `src-low`, more than it holds; the upstream's transaction rolls back and it cancels: the saga never runs. */
  lacksFunds: (n: number): boolean => n % 5 === 3,
  /** A fifth: to `dst-closed`; the credit is refused (non-retryable), so the debit is refunded. */
  closedDestination: (n: number): boolean => n % 5 === 1,
  /**
   * One in ten: the upstream process running the transfer is killed. Before COMMIT (9, 29, …) the
   * database rolls the debit back and the check-back cancels the saga; after COMMIT (11, 31, … to a
   * closed account; 19, 39, …) the check-back confirms it and it runs as scheduled.
   */
  upstreamDies: (n: number): UpstreamCrash | null => (n % 20 === 9 ? 'before-commit' : n % 20 === 11 || n % 20 === 19 ? 'after-commit' : null),
};

/** Transfer number `n` (the schedule holds for a few thousand). */
export const transferInput = (n: number): TransferInput => ({
  transferId: `transfer-${n}`,
  from: transferPlan.lacksFunds(n) ? 'src-low' : `src-${n % 5}`,
  to: transferPlan.closedDestination(n) ? 'dst-closed' : `dst-${n % 4}`,
  amountCents: transferPlan.lacksFunds(n) ? 5_000 + n : 1_000 + 10 * (n % 100),
});

const accountsTable = (bank: 'source' | 'destination'): string => `
  CREATE TABLE IF NOT EXISTS accounts (id TEXT PRIMARY KEY, balance_cents INTEGER NOT NULL, closed INTEGER NOT NULL DEFAULT 0);
  ${Object.entries(openingBalances[bank])
    .map(([id, cents]) => `INSERT OR IGNORE INTO accounts (id, balance_cents, closed) VALUES ('${id}', ${cents}, ${closedAccounts.includes(id) ? 1 : 0});`)
    .join('\n')}
`;

/**
 * The source bank: its accounts, and the transfers its API side debited. A transfer goes
 * `debited` (the upstream's transaction) → `booked` (recordDebit) → `settled` (settleTransfer), or
 * → `refunded` (refundDebit: the money is back on the account).
 */
export const sourceSchema = `
  ${accountsTable('source')}
  CREATE TABLE IF NOT EXISTS transfers (
    transfer_id TEXT PRIMARY KEY, account TEXT NOT NULL, payee TEXT NOT NULL, amount_cents INTEGER NOT NULL, status TEXT NOT NULL
  );
`;

/** The destination bank: its accounts, and the credits it made. */
const destinationSchema = `
  ${accountsTable('destination')}
  CREATE TABLE IF NOT EXISTS credits (transfer_id TEXT PRIMARY KEY, account TEXT NOT NULL, amount_cents INTEGER NOT NULL, reversed INTEGER NOT NULL DEFAULT 0);
`;

/** A command's movement fields (the worker decoded the command with the step's codec before it got here). */
const movement = (effect: DispatchEffect): { transferId: string; account: string; amountCents: number } => effect.command as { transferId: string; account: string; amountCents: number };

const business: Record<string, Business> = {
  recordDebit: (db, effect) => {
    const { transferId, account, amountCents } = movement(effect);
    const debit = db.prepare<[string], { account: string; amount_cents: number }>('SELECT account, amount_cents FROM transfers WHERE transfer_id = ?').get(transferId);
    if (debit === undefined || debit.account !== account || debit.amount_cents !== amountCents) {
      throw new StepFailure('NoDebit', `no debit of ${amountCents} on ${account} for ${transferId}`);
    }
    db.prepare("UPDATE transfers SET status = 'booked' WHERE transfer_id = ? AND status = 'debited'").run(transferId);
    return { debitId: `debit-${transferId}` };
  },
  refundDebit: (db, effect) => {
    const { transferId, account, amountCents } = movement(effect);
    const refunded = db.prepare("UPDATE transfers SET status = 'refunded' WHERE transfer_id = ? AND status <> 'refunded'").run(transferId);
    if (refunded.changes === 1) db.prepare('UPDATE accounts SET balance_cents = balance_cents + ? WHERE id = ?').run(amountCents, account);
    return null;
  },
  settleTransfer: (db, effect) => {
    const { transferId } = effect.command as { transferId: string };
    const settled = db.prepare("UPDATE transfers SET status = 'settled' WHERE transfer_id = ? AND status = 'booked'").run(transferId);
    if (settled.changes !== 1) throw new StepFailure('NotBooked', `${transferId} has no booked debit to settle`);
    return { settlementId: `settlement-${transferId}` };
  },
  creditDestination: (db, effect) => {
    const { transferId, account, amountCents } = movement(effect);
    const payee = db.prepare<[string], { closed: number }>('SELECT closed FROM accounts WHERE id = ?').get(account);
    if (payee === undefined) throw new StepFailure('UnknownAccount', `no account ${account}`);
    if (payee.closed === 1) throw new StepFailure('AccountClosed', `account ${account} is closed`);
    db.prepare('UPDATE accounts SET balance_cents = balance_cents + ? WHERE id = ?').run(amountCents, account);
    db.prepare('INSERT INTO credits (transfer_id, account, amount_cents) VALUES (?, ?, ?)').run(transferId, account, amountCents);
    return { creditId: `credit-${transferId}` };
  },
  reverseCredit: (db, effect) => {
    const { transferId, account, amountCents } = movement(effect);
    const reversed = db.prepare('UPDATE credits SET reversed = 1 WHERE transfer_id = ? AND reversed = 0').run(transferId);
    if (reversed.changes === 1) db.prepare('UPDATE accounts SET balance_cents = balance_cents - ? WHERE id = ?').run(amountCents, account);
    return null;
  },
};

/** The operations each bank's worker implements. */
export const bankServiceOperations = {
  source: ['recordDebit', 'refundDebit', 'settleTransfer'],
  destination: ['creditDestination', 'reverseCredit'],
} as const;
export type BankService = keyof typeof bankServiceOperations;
export const bankServices = Object.keys(bankServiceOperations) as BankService[];

/**
 * Opens (creating if needed) the database of one bank's worker. On the source bank, a refund
 * books the debit first when `recordDebit` never got here (it timed out on the way): the money
 * left the account in the upstream's transaction, before the saga started, so the refund is owed
 * whether or not the booking ran — yet the barrier answers a compensation whose operation never
 * ran with a null compensation, without running it.
 */
export function openBankServices(path: string, service: BankService): GuardedServices {
  const services = openGuardedServices(path, { schema: service === 'source' ? sourceSchema : destinationSchema, business, operations: bankServiceOperations[service] });
  if (service !== 'source') return services;
  return {
    ...services,
    run(effect) {
      if (effect.operation === 'refundDebit') {
        const key = forwardKeyOf(effect.key);
        const booked = services.run({ ...effect, kind: 'action', operation: 'recordDebit', key, id: `${key}/for-refund`, command: movement(effect) });
        if (!booked.ok && booked.error.retryable !== false) return booked; // try the refund again later
      }
      return services.run(effect);
    },
  };
}

/** What a bank's database holds: balances, and the source bank's transfers and start markers (`committed`, or `rolledBack` by a check-back). */
export interface BankBook {
  readonly balances: ReadonlyMap<string, number>;
  readonly transfers: ReadonlyMap<string, string>;
  readonly markers: ReadonlyMap<string, 'committed' | 'rolledBack'>;
}

/** Reads a bank's database (read-only). */
export function readBank(path: string): BankBook {
  const db = new Database(path, { readonly: true });
  try {
    const balances = new Map(db.prepare<[], { id: string; balance_cents: number }>('SELECT id, balance_cents FROM accounts').all().map((row) => [row.id, row.balance_cents]));
    const hasTransfers = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'transfers'").get() !== undefined;
    const transfers = new Map(hasTransfers ? db.prepare<[], { transfer_id: string; status: string }>('SELECT transfer_id, status FROM transfers').all().map((row) => [row.transfer_id, row.status]) : []);
    const markers = new Map(
      db
        .prepare<[], { key: string; outcome: string }>("SELECT key, outcome FROM sagaflow_barrier WHERE key LIKE '%/start'")
        .all()
        .map((row) => [row.key.slice(0, -'/start'.length), (JSON.parse(row.outcome) as { ok: boolean }).ok ? ('committed' as const) : ('rolledBack' as const)]),
    );
    return { balances, transfers, markers };
  } finally {
    db.close();
  }
}
