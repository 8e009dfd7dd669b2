import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DispatchEffect } from '@sagaflow/core';
import { openBankServices, readBank } from '../examples/money-transfer/bank-services.js';

/** The source bank's worker on a real SQLite file, its upstream's debit written as bank-api.ts writes it. */
let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sagaflow-banks-'));
  path = join(dir, 'source.db');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const movement = { transferId: 'transfer-1', account: 'src-0', amountCents: 700 };
const effect = (operation: 'recordDebit' | 'refundDebit', attempt = 1): DispatchEffect => {
  const kind = operation === 'recordDebit' ? 'action' : 'compensation';
  const key = `transfer-1/recordDebit/${kind}`;
  return { type: 'dispatch', id: `${key}/${attempt}`, key, kind, saga: 'money-transfer', instanceId: 'transfer-1', step: 'recordDebit', operation, attempt, command: operation === 'recordDebit' ? movement : { ...movement, debitId: null } };
};

/** What the upstream's committed transaction leaves: the money off the account, the transfer `debited`. */
function upstreamDebits(): void {
  const db = new Database(path);
  db.prepare('UPDATE accounts SET balance_cents = balance_cents - 700 WHERE id = ?').run('src-0');
  db.prepare("INSERT INTO transfers (transfer_id, account, payee, amount_cents, status) VALUES ('transfer-1', 'src-0', 'dst-0', 700, 'debited')").run();
  db.close();
}

describe('the source bank refunds a debit its upstream took', () => {
  it('after the booking: once, however often the refund is delivered', () => {
    const bank = openBankServices(path, 'source');
    upstreamDebits();
    expect(bank.run(effect('recordDebit'))).toEqual({ ok: true, reply: { debitId: 'debit-transfer-1' } });
    expect(bank.run(effect('refundDebit'))).toEqual({ ok: true, reply: null });
    expect(bank.run(effect('refundDebit', 2))).toEqual({ ok: true, reply: null });
    bank.close();
    const book = readBank(path);
    expect(book.balances.get('src-0')).toBe(1_000_000);
    expect(book.transfers.get('transfer-1')).toBe('refunded');
  });

  it('when the booking never got there (it timed out): the refund books it first, so the money still goes back; the late booking changes nothing', () => {
    const bank = openBankServices(path, 'source');
    upstreamDebits();
    expect(bank.run(effect('refundDebit'))).toEqual({ ok: true, reply: null });
    expect(readBank(path).balances.get('src-0')).toBe(1_000_000);
    expect(bank.run(effect('recordDebit'))).toEqual({ ok: true, reply: { debitId: 'debit-transfer-1' } }); // the stored outcome: nothing runs again
    bank.close();
    const book = readBank(path);
    expect(book.balances.get('src-0')).toBe(1_000_000);
    expect(book.transfers.get('transfer-1')).toBe('refunded');
  });
});
