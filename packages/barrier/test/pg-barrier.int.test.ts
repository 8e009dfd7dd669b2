/**
 * The PostgreSQL barrier on a real server, in a schema of its own per run (dropped afterwards):
 * the shared contract (support/barrier-contract.ts), then concurrent deliveries on separate clients.
 * Fails, never skips, when PostgreSQL is unreachable (test/support/postgres.ts).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { StepFailure, createPgBarrier, type PgBarrier } from '../src/index.js';
import { describeBarrierContract } from './support/barrier-contract.js';
import { CallCounter, action, compensation, freshInstance, type BarrierHarness } from './support/barrier-harness.js';
import { openPgTestEnv, untilBlockedOn, type PgTestEnv } from '../../../test/support/postgres.js';

let env: Promise<PgTestEnv> | undefined;
const pgEnv = (): Promise<PgTestEnv> => (env ??= openPgTestEnv());

afterAll(async () => {
  const opened = await env?.catch(() => undefined);
  await opened?.close();
});

interface PgHarness extends BarrierHarness {
  readonly barrier: PgBarrier;
  /** The barrier table, quoted as it appears in the barrier's SQL. */
  readonly quotedTable: string;
}

let tables = 0;
async function pgHarness(): Promise<PgHarness> {
  const { pool, schema } = await pgEnv();
  const n = ++tables;
  const business = `"${schema}"."business_${n}"`;
  const barrier = createPgBarrier(pool, { table: `${schema}.barrier_${n}` });
  await barrier.ensureSchema();
  await pool.query(`CREATE TABLE ${business} (key text NOT NULL)`);
  const counter = new CallCounter();
  return {
    barrier,
    quotedTable: `"${schema}"."barrier_${n}"`,
    run: (effect, plan = {}) =>
      barrier.run(effect, async (client) => {
        counter.hit(effect.key);
        await client.query(`INSERT INTO ${business} (key) VALUES ($1)`, [effect.key]);
        await plan.pause?.();
        if (plan.fail !== undefined) throw plan.fail;
        return plan.reply;
      }),
    calls: (key) => counter.get(key),
    applied: async (key) => {
      const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${business} WHERE key = $1`, [key]);
      return rows[0]?.n ?? 0;
    },
    find: (key) => barrier.find(key),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('PostgreSQL barrier', () => {
  describeBarrierContract(pgHarness);

  describe('concurrent deliveries on separate clients', () => {
    it('runs the business code once: the second delivery waits for the first and answers its outcome', async () => {
      const { pool } = await pgEnv();
      const harness = await pgHarness();
      const effect = action(freshInstance());
      // The business code holds its transaction open until the other delivery is blocked on the barrier row.
      const plan = { reply: { paymentId: 'pay-1' }, pause: async () => { await untilBlockedOn(pool, harness.quotedTable); await sleep(100); } };
      const [first, second] = await Promise.all([harness.run(effect, plan), harness.run(effect, plan)]);
      expect(first).toEqual({ ok: true, reply: { paymentId: 'pay-1' } });
      expect(second).toEqual(first);
      expect(harness.calls(effect.key)).toBe(1);
      expect(await harness.applied(effect.key)).toBe(1);
    });

    it('runs the business code once for many simultaneous deliveries', async () => {
      const harness = await pgHarness();
      const effect = action(freshInstance());
      const outcomes = await Promise.all(
        Array.from({ length: 6 }, (_, i) => harness.run(effect, { reply: { delivery: i }, pause: () => sleep(200) })),
      );
      expect(new Set(outcomes.map((outcome) => JSON.stringify(outcome))).size).toBe(1);
      expect(harness.calls(effect.key)).toBe(1);
      expect(await harness.applied(effect.key)).toBe(1);
    });

    it('lets the waiting delivery run the business code when the first one fails retryably', async () => {
      const { pool } = await pgEnv();
      const harness = await pgHarness();
      const effect = action(freshInstance());
      let attempts = 0;
      const plan = {
        pause: async () => {
          if (++attempts === 1) await untilBlockedOn(pool, harness.quotedTable);
        },
        get fail() {
          return attempts === 1 ? new StepFailure('Unavailable', 'carrier down', { retryable: true }) : undefined;
        },
        reply: 'shipped',
      };
      const outcomes = await Promise.all([harness.run(effect, plan), harness.run(effect, plan)]);
      expect(outcomes).toContainEqual({ ok: false, error: { code: 'Unavailable', message: 'carrier down', retryable: true } });
      expect(outcomes).toContainEqual({ ok: true, reply: 'shipped' });
      expect(harness.calls(effect.key)).toBe(2);
      expect(await harness.applied(effect.key)).toBe(1);
      expect(await harness.find(effect.key)).toEqual({ ok: true, reply: 'shipped' });
    });

    it('makes a compensation wait for its forward operation in flight, then undo it', async () => {
      const { pool } = await pgEnv();
      const harness = await pgHarness();
      const instance = freshInstance();
      const forward = harness.run(action(instance), { reply: { paymentId: 'pay-1' }, pause: () => untilBlockedOn(pool, harness.quotedTable) });
      await sleep(50);
      const undo = harness.run(compensation(instance), { reply: { refundId: 'ref-1' } });
      expect(await forward).toEqual({ ok: true, reply: { paymentId: 'pay-1' } });
      expect(await undo).toEqual({ ok: true, reply: { refundId: 'ref-1' } });
      expect(harness.calls(compensation(instance).key)).toBe(1);
    });

    it('returns every client to the pool, whatever the outcome', async () => {
      const { pool } = await pgEnv();
      const harness = await pgHarness();
      const instance = freshInstance();
      await harness.run(action(instance, 'a'), { reply: 1 });
      await harness.run(action(instance, 'b'), { fail: new Error('boom') });
      await harness.run(action(instance, 'c'), { fail: new StepFailure('Declined', 'no') });
      await expect(harness.run(action(instance, 'd'), { reply: 10n })).rejects.toThrow(TypeError);
      expect(pool.totalCount - pool.idleCount).toBe(0);
    });
  });

  describe('schema and options', () => {
    it('creates its table idempotently, even from concurrent callers', async () => {
      const { pool, schema } = await pgEnv();
      const barrier = createPgBarrier(pool, { table: `${schema}.created_twice` });
      await Promise.all([barrier.ensureSchema(), barrier.ensureSchema(), barrier.ensureSchema()]);
      await barrier.ensureSchema();
      expect(await barrier.run(action(freshInstance()), async () => Promise.resolve('ok'))).toEqual({ ok: true, reply: 'ok' });
    });

    it.each(['', 'barrier; DROP SCHEMA public CASCADE', 'a.b.c', '1barrier', '"barrier"', 'bar rier', 'x'.repeat(64), 'public.'])(
      'refuses the table name %j',
      async (table) => {
        const { pool } = await pgEnv();
        expect(() => createPgBarrier(pool, { table })).toThrow(TypeError);
      },
    );
  });
});
