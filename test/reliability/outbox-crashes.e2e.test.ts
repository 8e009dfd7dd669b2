/**
 * docs/reliability.md, outbox rows: an upstream that writes its start request in its own SQLite
 * transaction (`@sagaflow/outbox`) and relays it, killed (kill -9) inside the transaction, after
 * the commit, and after publishing but before marking the request sent. Engine and downstream
 * worker are processes.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, inject } from 'vitest';
import { sleep, World } from './support/world.js';

let world: World;
beforeEach(async () => {
  world = await World.open(inject('natsUrl'));
  await Promise.all([world.startEngine(), world.startWorker()]);
});
afterEach(async () => {
  await world.close();
});

const transferOf = (transferId: string) => ({ transferId, from: 'alice', to: 'bob', amountCents: 100 });
const bankDb = (): string => join(world.dir, 'outbox-bank.db');

function bank(args: readonly string[] = []) {
  return world.startProcess('outbox-upstream', ['--db', bankDb(), '--nats', world.natsUrl, '--namespace', world.namespace, ...args]);
}

/** What the bank's database holds: debits, and outbox rows not yet sent. */
function bankState(transferId: string): { debits: number; unsent: number } {
  const db = new Database(bankDb(), { readonly: true });
  try {
    const debits = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM debits WHERE transfer_id = ?').get(transferId)?.n ?? 0;
    const unsent = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM sagaflow_outbox WHERE instance_id = ? AND sent_at IS NULL').get(transferId)?.n ?? 0;
    return { debits, unsent };
  } finally {
    db.close();
  }
}

describe('transactional outbox', () => {
  it('the upstream dies inside its transaction: neither the debit nor the start request exists; nothing runs', async () => {
    const dying = bank(['--transfer', JSON.stringify(transferOf('o-uncommitted')), '--crash-at', 'before-commit']);
    expect(await dying.exited).toBe('SIGKILL');
    const relay = bank();
    await relay.waitFor(/^relay ready$/u);
    await sleep(500);
    expect(bankState('o-uncommitted')).toEqual({ debits: 0, unsent: 0 });
    expect(await world.summary('o-uncommitted')).toBeUndefined();
    expect(await world.startsStored()).toBe(0);
  });

  it('the upstream dies after its commit, before relaying: the restarted relay publishes the request; the saga runs once', async () => {
    const dying = bank(['--transfer', JSON.stringify(transferOf('o-committed')), '--crash-at', 'after-commit']);
    expect(await dying.exited).toBe('SIGKILL');
    expect(dying.lines).toContain('committed o-committed');
    expect(bankState('o-committed')).toEqual({ debits: 1, unsent: 1 });
    const relay = bank();
    await relay.waitFor(/^published start:o-committed$/u);
    await world.settles('o-committed', ['completed']);
    expect(bankState('o-committed')).toEqual({ debits: 1, unsent: 0 });
    expect(world.credits('o-committed')).toBe(1);
  });

  it('the relay dies after publishing, before marking the request sent: it publishes again after a restart, and the saga still starts once', async () => {
    const dying = bank(['--transfer', JSON.stringify(transferOf('o-published')), '--crash-at', 'after-publish']);
    expect(await dying.exited).toBe('SIGKILL');
    expect(bankState('o-published')).toEqual({ debits: 1, unsent: 1 });
    await world.settles('o-published', ['completed']); // the first publish got through
    const relay = bank();
    await relay.waitFor(/^published start:o-published$/u); // published again: JetStream drops it as a duplicate
    expect(bankState('o-published')).toEqual({ debits: 1, unsent: 0 });
    expect(await world.startsStored()).toBe(1);
    const events = await world.events('o-published');
    expect(events.filter((e) => e.type === 'SagaStarted')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'StepDispatched')).toHaveLength(1);
    expect(world.credits('o-published')).toBe(1);
  });
});
