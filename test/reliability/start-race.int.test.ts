/**
 * The two-phase start raced at the system level: a real engine (in process, in memory) and the
 * bank's real PostgreSQL markers. In random orders the bank begins its transaction, writes its
 * commit marker, commits or rolls back, and sends (or loses) its confirm or cancel, while
 * check-backs run concurrently against the markers — a check-back can block on a transaction in
 * progress, or get in before its marker. Whatever the order: exactly one outcome, the saga ran iff
 * the bank committed, and ran once.
 */
import { randomBytes } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryEventStore, decodeStream, type EventStore } from '@sagaflow/core';
import { StartRolledBackError } from '@sagaflow/barrier';
import { createInProcessTransport, Engine } from '@sagaflow/engine';
import { openBank, type Bank } from './support/bank.js';
import { registry } from './support/sagas.js';
import { eventually, pgUrl, sleep } from './support/world.js';

let pool: pg.Pool;
let bank: Bank;
let store: EventStore;
let engine: Engine;
const credits = new Map<string, number>();

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: pgUrl, max: 12 });
  bank = await openBank(pool, `race_${randomBytes(6).toString('hex')}`);
  store = createMemoryEventStore();
  const transport = createInProcessTransport();
  transport.register('credit', (effect) => {
    credits.set(effect.instanceId, (credits.get(effect.instanceId) ?? 0) + 1);
    return Promise.resolve({ ok: true, reply: { creditId: `c-${effect.instanceId}` } });
  });
  // The engine's own check-backs (past the 300 ms confirmation timeout) go to the same markers.
  transport.registerCheckBack('transfer', (instanceId) => bank.barrier.checkBack(instanceId));
  engine = new Engine({ store, registry, transport, log: { info: () => undefined, warn: () => undefined, error: () => undefined } });
  await engine.start();
});
afterAll(async () => {
  await engine?.stop();
  await pool?.query(`DROP SCHEMA IF EXISTS "${bank.schema}" CASCADE`);
  await pool?.end();
});

/** The bank's steps, in their order; check-backs are slotted in before any of them (or after all). */
const steps = ['begin', 'mark', 'end', 'notify'] as const;

const plan = fc.record({
  commit: fc.boolean(),
  notifyLost: fc.boolean(),
  checkBacksBefore: fc.array(fc.integer({ min: 0, max: steps.length }), { minLength: 1, maxLength: 3 }),
  pauses: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: steps.length, maxLength: steps.length }),
});

let runs = 0;

describe('confirm, cancel and check-backs racing over real markers', () => {
  it('exactly one outcome; the saga ran iff the bank committed, once', async () => {
    await fc.assert(
      fc.asyncProperty(plan, async ({ commit, notifyLost, checkBacksBefore, pauses }) => {
        const id = `race-${++runs}-${randomBytes(3).toString('hex')}`;
        const prepared = await engine.prepareSaga('transfer', id, { transferId: id, from: 'alice', to: 'bob', amountCents: 1 });
        expect(E.isRight(prepared)).toBe(true);
        const answers: string[] = [];
        const asking: Promise<unknown>[] = [];
        const askNow = (): void => {
          asking.push(
            bank.barrier.checkBack(id).then(async (answer) => {
              answers.push(answer);
              await engine.submit(id, { type: 'checkBackAnswer', outcome: answer });
            }),
          );
        };

        const client = await pool.connect();
        let marked = false;
        let committed = false;
        try {
          for (const [index, step] of steps.entries()) {
            for (const slot of checkBacksBefore) if (slot === index) askNow();
            await sleep(pauses[index] ?? 0);
            switch (step) {
              case 'begin':
                await client.query('BEGIN');
                await client.query(`INSERT INTO "${bank.schema}".debits (transfer_id, account, amount_cents) VALUES ($1, 'alice', 1)`, [id]);
                break;
              case 'mark':
                try {
                  await bank.barrier.markCommitted(client, id);
                  marked = true;
                } catch (error) {
                  if (!(error instanceof StartRolledBackError)) throw error;
                }
                break;
              case 'end':
                if (commit && marked) {
                  await client.query('COMMIT');
                  committed = true;
                } else {
                  await client.query('ROLLBACK');
                }
                break;
              case 'notify': {
                if (notifyLost) break;
                const notified = committed ? await engine.confirm(id, 'bank') : await engine.cancel(id, 'bank', 'rolled back');
                expect(E.isRight(notified)).toBe(true); // never refused: the markers agree with the bank
                break;
              }
            }
          }
          for (const slot of checkBacksBefore) if (slot === steps.length) askNow();
        } finally {
          client.release();
        }
        await Promise.all(asking);
        // What the engine's own check-back schedule would do for an instance still pending.
        if ((await store.getInstance(id))?.status === 'pending') {
          const answer = await bank.barrier.checkBack(id);
          answers.push(answer);
          await engine.submit(id, { type: 'checkBackAnswer', outcome: answer });
        }

        const expected = committed ? 'completed' : 'cancelled';
        await eventually(async () => ((await store.getInstance(id))?.status === expected ? true : undefined), `${id} ${expected}`, 5_000);
        expect(await bank.debitsOf(id)).toBe(committed ? 1 : 0);
        expect(answers.every((answer) => answer === (committed ? 'committed' : 'rolledBack'))).toBe(true);
        expect(credits.get(id) ?? 0).toBe(committed ? 1 : 0);
        const events = decodeStream(await store.readStream(id));
        if (E.isLeft(events)) throw new Error(events.left.message);
        const outcomes = events.right.filter((e) => e.type === 'SagaConfirmed' || e.type === 'SagaCancelled');
        expect(outcomes.map((e) => e.type)).toEqual([committed ? 'SagaConfirmed' : 'SagaCancelled']);
      }),
      { numRuns: 100 },
    );
    expect(runs).toBe(100);
  });
});
