import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createRegistry,
  decodeStream,
  saga,
  WrongExpectedRevisionError,
  type AppendRequest,
  type AppendResult,
  type EventStore,
  type ReplyOutcome,
} from '@sagaflow/core';
import { createInProcessTransport, Engine, type InProcessHandler, type InProcessTransport } from '@sagaflow/engine';
import { openEventStoreDbStore } from '@sagaflow/store-eventstoredb';
import { startEsdbTestServer, type EsdbTestServer } from './esdb-test-server.js';

const order = saga('race-order', { version: 1, input: t.type({ id: t.string }) });
const reserve = order.step({
  name: 'reserve',
  command: t.type({ id: t.string }),
  reply: t.type({ ref: t.string }),
  toCommand: ({ input }) => ({ id: input.id }),
  compensation: { name: 'release', command: t.type({ id: t.string }), toCommand: ({ input }) => ({ id: input.id }) },
  timeoutMs: 60_000,
});
const charge = order.step({
  name: 'charge',
  command: t.type({ id: t.string, ref: t.string }),
  reply: t.type({ paid: t.boolean }),
  toCommand: ({ input, replyOf }) => ({ id: input.id, ref: replyOf(reserve).ref }),
  timeoutMs: 60_000,
});
const registry = createRegistry([order.define([reserve, charge])]);
const silentLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** One append an engine asked for, and what the store answered. */
interface Attempt {
  readonly engine: string;
  readonly request: AppendRequest;
  readonly result: AppendResult | WrongExpectedRevisionError;
}

/** The store, recording every append of the engine using it (the engine appends through `appendMany`). */
function recorded(store: EventStore, engine: string, attempts: Attempt[]): EventStore {
  return {
    ...store,
    appendMany: async (requests) => {
      const results = await store.appendMany(requests);
      requests.forEach((request, index) => {
        const result = results[index];
        if (result !== undefined) attempts.push({ engine, request, result });
      });
      return results;
    },
  };
}

async function eventually(condition: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('two engines on one EventStoreDB (test double)', () => {
  let server: EsdbTestServer;
  const closing: (() => Promise<void>)[] = [];

  beforeEach(async () => {
    server = await startEsdbTestServer();
  });
  afterEach(async () => {
    for (const close of closing.splice(0).reverse()) await close();
    await server.close();
  });

  /** An engine on its own store instance (own connection, own in-memory listing), recording its appends. */
  async function engineOn(name: string, handlers: Record<string, InProcessHandler>, attempts: Attempt[]): Promise<{ engine: Engine; store: EventStore; transport: InProcessTransport }> {
    const store = await openEventStoreDbStore(server.url);
    const transport = createInProcessTransport({ redeliveryDelayMs: 10 });
    for (const [operation, handler] of Object.entries(handlers)) transport.register(operation, handler);
    const engine = new Engine({ store: recorded(store, name, attempts), registry, transport, log: silentLog, redispatchDelayMs: 10 });
    closing.push(() => store.close(), () => transport.close(), () => engine.stop());
    await engine.start();
    return { engine, store, transport };
  }

  it('get exactly one success per revision; the loser re-decides; no event is lost or duplicated', async () => {
    const attempts: Attempt[] = [];
    const chargeReplies = new Map<string, (outcome: ReplyOutcome) => void>();
    const ok = (reply: unknown): InProcessHandler => () => Promise.resolve({ ok: true, reply });
    const a = await engineOn(
      'A',
      {
        reserve: ok({ ref: 'r' }),
        charge: (effect) => new Promise<ReplyOutcome>((resolve) => chargeReplies.set(effect.instanceId, resolve)),
        release: ok(null),
      },
      attempts,
    );
    const b = await engineOn('B', { release: ok(null) }, attempts);
    const stale = Array.from({ length: 8 }, (_, n) => `stale-${n}`);
    const raced = Array.from({ length: 8 }, (_, n) => `raced-${n}`);
    for (const id of [...stale, ...raced]) expect(E.isRight(await a.engine.startSaga('race-order', id, { id }))).toBe(true);
    await eventually(() => Promise.resolve(chargeReplies.size === stale.length + raced.length));

    // 1. Engine A holds each `stale` instance in memory while B aborts it through the store. The charge
    //    replies then reach A, whose appends were decided on a stale revision: each one conflicts, A reloads,
    //    and the reply, now out of date, records nothing.
    for (const id of stale) expect(E.isRight(await b.engine.intervene(id, 'abort', 'ops', 'cancelled by the customer'))).toBe(true);
    for (const id of stale) chargeReplies.get(id)?.({ ok: true, reply: { paid: true } });
    await eventually(async () => (await Promise.all(stale.map((id) => b.store.getInstance(id)))).every((row) => row?.status === 'compensated'));
    await eventually(() => Promise.resolve(a.engine.conflictsResolved >= stale.length));

    // 2. Both engines abort each `raced` instance at the same moment: both decide on the same revision,
    //    one append wins, the other engine reloads and decides again, and is refused.
    const outcomes = await Promise.all(
      raced.map((id) => Promise.all([a.engine.intervene(id, 'abort', 'ops-a', 'race'), b.engine.intervene(id, 'abort', 'ops-b', 'race')])),
    );
    for (const pair of outcomes) {
      expect(pair.filter(E.isRight)).toHaveLength(1);
      expect(pair.flatMap((result) => (E.isLeft(result) ? [result.left._tag] : []))).toEqual(['InterventionRefused']);
    }
    await eventually(async () => (await Promise.all(raced.map((id) => a.store.getInstance(id)))).every((row) => row?.status === 'compensated'));

    // Exactly one success per expected revision of each instance, and the successes chain from noStream.
    const conflicts = attempts.filter((attempt) => attempt.result instanceof WrongExpectedRevisionError);
    expect(conflicts.filter((conflict) => stale.includes(conflict.request.instanceId))).toHaveLength(stale.length);
    // (The race is real: the engine without a cached state reads first and appends after the other one.)
    expect(conflicts.filter((conflict) => raced.includes(conflict.request.instanceId)).length).toBeGreaterThan(0);
    for (const id of [...stale, ...raced]) {
      const successes = attempts.filter((attempt) => attempt.request.instanceId === id && !(attempt.result instanceof WrongExpectedRevisionError));
      const expected = successes.map((attempt) => attempt.request.expectedRevision);
      expect(new Set(expected).size).toBe(expected.length);
      successes.sort((x, y) => x.request.expectedRevision - y.request.expectedRevision);
      let revision = -1;
      for (const success of successes) {
        expect(success.request.expectedRevision).toBe(revision);
        revision += success.request.events.length;
        expect(success.result).toMatchObject({ revision });
      }
      // The stream holds exactly the events of the successful appends, in order: none lost, none twice.
      const stream = await a.store.readStream(id);
      expect(stream.map((event) => event.revision)).toEqual(stream.map((_, index) => index));
      expect(stream.map((event) => event.json)).toEqual(successes.flatMap((success) => success.request.events.map((event) => event.json)));
      const decoded = decodeStream(stream);
      if (E.isLeft(decoded)) throw new Error(decoded.left.message);
      const types = decoded.right.map((event) => event.type);
      expect(types.filter((type) => type === 'OperatorIntervened')).toHaveLength(1);
      expect(decoded.right.filter((event) => event.type === 'StepSucceeded' && 'step' in event && event.step === 'charge')).toHaveLength(0);
      expect(types.at(-1)).toBe('SagaCompensated');
    }
    // Every conflict an engine met was decided again (and counted by it).
    expect(a.engine.conflictsResolved + b.engine.conflictsResolved).toBe(conflicts.length);
    expect(a.engine.conflictsResolved).toBe(conflicts.filter((conflict) => conflict.engine === 'A').length);
  });
});
