/**
 * The outbox on real SQLite files, relayed to the test run's nats-server and consumed by a real
 * engine: written iff the caller's transaction commits, bad payloads fail that transaction, failed
 * publishes retried with backoff, a publish repeated after a crash starts the saga once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { jetstream } from '@nats-io/jetstream';
import { afterAll, afterEach, describe, expect, it, inject } from 'vitest';
import { partitionOf } from '@sagaflow/core';
import { naming, readNamespaceConfig } from '@sagaflow/nats';
import { createOutboxRelay, createSqliteOutbox, OutboxRequestError, type OutboxRelay } from '../src/index.js';
import { eventually, openWorld, registry, sleep, transfer, type World } from './support/world.js';

const dir = mkdtempSync(join(tmpdir(), 'sagaflow-outbox-'));
const databases: Database.Database[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => {
  for (const db of databases) db.close();
  rmSync(dir, { recursive: true, force: true });
});

let files = 0;
/** An upstream database: accounts, and the outbox. */
function upstream() {
  const db = new Database(join(dir, `upstream-${++files}.db`));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE debits (transfer_id TEXT NOT NULL, amount_cents INTEGER NOT NULL)');
  databases.push(db);
  const outbox = createSqliteOutbox(db, { sagas: registry });
  const debits = (): number => db.prepare<[], { n: number }>('SELECT count(*) AS n FROM debits').get()?.n ?? 0;
  /** The upstream's business transaction: debit, and the start request, together. */
  const transferMoney = (id: string, input: unknown, fail = false): string =>
    db.transaction(() => {
      db.prepare('INSERT INTO debits VALUES (?, ?)').run(id, 100);
      const instanceId = outbox.start(db, 'transfer', input, { instanceId: id });
      if (fail) throw new Error('insufficient funds');
      return instanceId;
    })();
  return { db, outbox, debits, transferMoney };
}

async function world(): Promise<World> {
  const opened = await openWorld(inject('natsUrl'));
  cleanups.push(() => opened.close());
  return opened;
}

function relayFor(w: World, store: ReturnType<typeof upstream>['outbox'], extra: Partial<Parameters<typeof createOutboxRelay>[0]> = {}): OutboxRelay {
  const relay = createOutboxRelay({ store, connection: w.connection, namespace: w.namespace, pollIntervalMs: 50, log: w.log, ...extra });
  cleanups.push(() => relay.stop());
  return relay;
}

const input = { from: 'alice', to: 'bob', amountCents: 100 };

describe('SQLite outbox', () => {
  it('stores the request iff the transaction commits, and the relay starts each committed saga once', async () => {
    const w = await world();
    const up = upstream();
    up.transferMoney('tx-1', input);
    up.transferMoney('tx-2', input);
    expect(() => up.transferMoney('tx-3', input, true)).toThrow('insufficient funds');
    expect(up.debits()).toBe(2);
    expect(await up.outbox.countPending()).toBe(2);

    relayFor(w, up.outbox);
    await eventually(async () => ((await w.statuses()).get('running') === 2 ? true : undefined), 'two instances running');
    expect(await w.store.getInstance('tx-3')).toBeUndefined();
    expect(await up.outbox.countPending()).toBe(0);
    expect(w.events.filter((e) => e.type === 'published').map((e) => (e.type === 'published' ? e.row.msgId : ''))).toEqual(['start:tx-1', 'start:tx-2']);
  });

  it('checks and serialises before the commit: a bad payload fails the caller’s transaction and never becomes a message', () => {
    const up = upstream();
    const refused = (id: string, bad: unknown): unknown => {
      try {
        up.transferMoney(id, bad);
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const invalid = refused('bad-1', { from: 'alice', to: 'bob', amountCents: 'a lot' });
    expect(invalid).toBeInstanceOf(OutboxRequestError);
    expect((invalid as Error).message).toMatch(/invalid input: .*amountCents/);
    expect(refused('bad-2', { from: 'alice', to: 'bob', amountCents: 1n })).toBeInstanceOf(OutboxRequestError);
    expect(() => up.db.transaction(() => up.outbox.start(up.db, 'no-such-saga', input))()).toThrow(/unknown saga/);
    expect(() => up.db.transaction(() => up.outbox.start(up.db, 'bad subject', input))()).toThrow(OutboxRequestError);
    expect(() => up.outbox.start(up.db, 'transfer', input)).toThrow(/inside the caller's transaction/);
    expect(up.debits()).toBe(0);
    expect(up.db.prepare('SELECT count(*) AS n FROM sagaflow_outbox').get()).toEqual({ n: 0 });
  });

  it('without a registry, still serialises before the commit; with a definition, checks its codec', () => {
    const db = new Database(join(dir, `plain-${++files}.db`));
    databases.push(db);
    const outbox = createSqliteOutbox(db);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => db.transaction(() => outbox.start(db, 'transfer', cyclic))()).toThrow(/cannot be sent as JSON/);
    expect(() => db.transaction(() => outbox.start(db, transfer, { amountCents: 1 }))()).toThrow(/invalid input/);
    const id = db.transaction(() => outbox.start(db, 'transfer', { anything: true }))();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('retries a refused publish with growing backoff, then publishes it once', async () => {
    const w = await world();
    const up = upstream();
    await w.refuseStarts(true);
    up.transferMoney('tx-retry', input);
    relayFor(w, up.outbox, { retry: { initialDelayMs: 100, multiplier: 2, maxDelayMs: 400 } });
    const failures = await eventually(() => {
      const failed = w.events.flatMap((e) => (e.type === 'publishFailed' ? [e] : []));
      return failed.length >= 3 ? failed : undefined;
    }, 'three failed publishes');
    expect(failures[0]?.message).toMatch(/publish of start:tx-retry failed \(attempt 1\), trying again in \d+ ms/);
    expect(failures[1]?.retryInMs).toBeGreaterThan(failures[0]?.retryInMs ?? Infinity);
    expect(await up.outbox.countPending()).toBe(1);
    await w.refuseStarts(false);
    await eventually(async () => ((await w.store.getInstance('tx-retry'))?.status === 'running' ? true : undefined), 'the saga started');
    expect(await up.outbox.countPending()).toBe(0);
    expect(await w.startsStored()).toBe(1);
  });

  it('a request published but not marked sent (the relay crashed in between) is published again and starts the saga once', async () => {
    const w = await world();
    const up = upstream();
    up.transferMoney('tx-crash', input);
    // What a relay does before it crashes: claim and publish, but never mark the row sent.
    const [row] = await up.outbox.claim(10, Date.now(), 1);
    expect(row?.msgId).toBe('start:tx-crash');
    const js = jetstream(w.connection);
    const names = naming(w.namespace);
    const { partitions } = (await readNamespaceConfig(js, names))!;
    await js.publish(names.start(row!.saga, partitionOf(row!.instanceId, partitions)), row!.body, { msgID: row!.msgId });
    await sleep(5); // the lease (1 ms) has run out
    const relay = relayFor(w, up.outbox);
    await eventually(() => (relay.stats.published === 1 ? true : undefined), 'the second publish');
    await eventually(async () => ((await w.store.getInstance('tx-crash'))?.status === 'running' ? true : undefined), 'the saga started');
    expect(await w.startsStored()).toBe(1); // JetStream dropped the repeat (same Nats-Msg-Id)
    expect((await w.statuses()).get('running')).toBe(1);
  });

  it('keeps a prepare, its confirm and a delayed start in order, and stops cleanly', async () => {
    const w = await world();
    const up = upstream();
    const startAt = Date.now() + 60_000;
    up.db.transaction(() => {
      up.outbox.prepare(up.db, 'transfer', input, { instanceId: 'tx-2pc' });
      up.outbox.confirm(up.db, 'transfer', 'tx-2pc');
      up.outbox.start(up.db, transfer, input, { instanceId: 'tx-later', startAt: new Date(startAt) });
    })();
    const relay = relayFor(w, up.outbox);
    await eventually(async () => ((await w.store.getInstance('tx-2pc'))?.status === 'running' ? true : undefined), 'the prepared saga confirmed');
    await eventually(async () => ((await w.store.getInstance('tx-later'))?.status === 'pending' ? true : undefined), 'the delayed saga scheduled');
    await relay.stop();
    expect(w.events.at(-1)).toMatchObject({ type: 'stopped', message: expect.stringContaining('3 published') as unknown });
    up.transferMoney('tx-after-stop', input);
    await sleep(150);
    expect(await up.outbox.countPending()).toBe(1);
    expect(relay.stats.published).toBe(3);
  });
});

describe('SQLite outbox sharing a connection with a transaction held open across awaits', () => {
  it('claims nothing while that transaction is open, so a request that is then rolled back is never published', async () => {
    const up = upstream();
    up.db.exec('BEGIN');
    up.outbox.start(up.db, 'transfer', input, { instanceId: 'tx-open' });
    expect(await up.outbox.claim(10, Date.now(), 1_000)).toEqual([]);
    up.db.exec('ROLLBACK');
    expect(await up.outbox.claim(10, Date.now(), 1_000)).toEqual([]);
    expect(await up.outbox.countPending()).toBe(0);
  });
});
