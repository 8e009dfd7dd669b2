/**
 * The outbox on a real PostgreSQL server (a schema of its own), relayed to the test run's
 * nats-server and consumed by a real engine. Fails, never skips, when PostgreSQL is unreachable.
 */
import { afterAll, afterEach, describe, expect, it, inject } from 'vitest';
import { createOutboxRelay, createPgOutbox, OutboxRequestError, type PgOutbox } from '../src/index.js';
import { openPgTestEnv, type PgTestEnv } from '../../../test/support/postgres.js';
import { eventually, openWorld, registry, type World } from './support/world.js';

let env: Promise<PgTestEnv> | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  const opened = await env?.catch(() => undefined);
  await opened?.close();
});

let tables = 0;
async function upstream() {
  const { pool, schema } = await (env ??= openPgTestEnv());
  const n = ++tables;
  const outbox = createPgOutbox(pool, { table: `${schema}.outbox_${n}`, sagas: registry });
  await outbox.ensureSchema();
  await outbox.ensureSchema(); // idempotent
  const debitsTable = `"${schema}"."debits_${n}"`;
  await pool.query(`CREATE TABLE ${debitsTable} (transfer_id text NOT NULL)`);
  /** The upstream's business transaction: debit, and the start request, on one client. */
  const transferMoney = async (id: string, input: unknown, fail = false): Promise<void> => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`INSERT INTO ${debitsTable} VALUES ($1)`, [id]);
      await outbox.start(client, 'transfer', input, { instanceId: id });
      if (fail) throw new Error('insufficient funds');
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  };
  const debits = async (): Promise<number> => (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${debitsTable}`)).rows[0]?.n ?? 0;
  return { pool, outbox, transferMoney, debits };
}

async function world(): Promise<World> {
  const opened = await openWorld(inject('natsUrl'));
  cleanups.push(() => opened.close());
  return opened;
}

function relay(w: World, store: PgOutbox) {
  const running = createOutboxRelay({ store, connection: w.connection, namespace: w.namespace, pollIntervalMs: 30, batchSize: 5, log: w.log });
  cleanups.push(() => running.stop());
  return running;
}

const input = { from: 'alice', to: 'bob', amountCents: 100 };

describe('PostgreSQL outbox', () => {
  it('stores the request iff the transaction commits; a bad payload rejects inside the transaction, which rolls back', async () => {
    const w = await world();
    const up = await upstream();
    await up.transferMoney('pg-1', input);
    await expect(up.transferMoney('pg-2', input, true)).rejects.toThrow('insufficient funds');
    await expect(up.transferMoney('pg-3', { ...input, amountCents: 'lots' })).rejects.toBeInstanceOf(OutboxRequestError);
    await expect(up.transferMoney('pg-4', { ...input, amountCents: 10n })).rejects.toBeInstanceOf(OutboxRequestError);
    expect(await up.debits()).toBe(1);
    expect(await up.outbox.countPending()).toBe(1);
    relay(w, up.outbox);
    await eventually(async () => ((await w.store.getInstance('pg-1'))?.status === 'running' ? true : undefined), 'pg-1 started');
    expect((await w.statuses()).get('running')).toBe(1);
    expect(await up.outbox.countPending()).toBe(0);
    expect(await up.outbox.purgeSent(Date.now() + 1)).toBe(1);
  });

  it('two relays on one outbox publish every request once (rows claimed with SKIP LOCKED and a lease)', async () => {
    const w = await world();
    const up = await upstream();
    const ids = Array.from({ length: 30 }, (_, n) => `pg-many-${n}`);
    await Promise.all(ids.map((id) => up.transferMoney(id, input)));
    const relays = [relay(w, up.outbox), relay(w, up.outbox)];
    await eventually(async () => ((await w.statuses()).get('running') === ids.length ? true : undefined), 'every saga started');
    await eventually(async () => ((await up.outbox.countPending()) === 0 ? true : undefined), 'every row marked sent');
    expect(relays.reduce((sum, r) => sum + r.stats.published, 0)).toBe(ids.length);
    expect(relays.every((r) => r.stats.published > 0)).toBe(true);
    expect(await w.startsStored()).toBe(ids.length);
  });

  it('reports an outbox it cannot read, keeps polling, and stops cleanly', async () => {
    const w = await world();
    const up = await upstream();
    const broken = createPgOutbox(up.pool, { table: 'no_such_schema.outbox' });
    const running = relay(w, broken);
    await eventually(() => (w.events.filter((e) => e.type === 'pollFailed').length >= 2 ? true : undefined), 'poll failures reported, again and again');
    expect(w.events.find((e) => e.type === 'pollFailed')?.message).toMatch(/reading the outbox no_such_schema\.outbox failed/);
    await running.stop();
    expect(w.events.at(-1)?.type).toBe('stopped');
  });
});
