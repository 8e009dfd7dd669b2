import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { describe, expect, it } from 'vitest';
import { createMemoryEventStore, createRegistry, decodeStream, saga, type EventStore, type ReplyOutcome } from '@sagaflow/core';
import { createInProcessTransport, type InProcessHandler } from '../src/in-process-transport.js';
import { Engine } from '../src/engine.js';

const order = saga('quick-order', { version: 1, input: t.type({ id: t.string }) });
const reserve = order.step({
  name: 'reserve',
  command: t.type({ id: t.string }),
  reply: t.type({ ref: t.string }),
  toCommand: ({ input }) => ({ id: input.id }),
  compensation: { name: 'release', command: t.type({ id: t.string }), toCommand: ({ input }) => ({ id: input.id }) },
  timeoutMs: 40,
  retry: { maxAttempts: 3, initialDelayMs: 5, maxDelayMs: 10 },
});
const charge = order.step({
  name: 'charge',
  command: t.type({ id: t.string, ref: t.string }),
  reply: t.type({ paid: t.boolean }),
  toCommand: ({ input, replyOf }) => ({ id: input.id, ref: replyOf(reserve).ref }),
  nonRetryable: ['Declined'],
  timeoutMs: 40,
  retry: { maxAttempts: 2, initialDelayMs: 5, maxDelayMs: 10 },
});
const quickOrder = order.define([reserve, charge]);
const registry = createRegistry([quickOrder]);

const silentLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

type Handlers = Partial<Record<'reserve' | 'charge' | 'release', InProcessHandler>>;
const ok =
  (reply: unknown): InProcessHandler =>
  () =>
    Promise.resolve({ ok: true, reply });

function engineOn(store: EventStore, handlers: Handlers) {
  const transport = createInProcessTransport({ redeliveryDelayMs: 5 });
  for (const [operation, handler] of Object.entries(handlers)) transport.register(operation, handler);
  const engine = new Engine({ store, registry, transport, log: silentLog, redispatchDelayMs: 5 });
  return { engine, transport };
}

async function settled(store: EventStore, id: string, statuses: readonly string[] = ['completed', 'compensated', 'stuck']): Promise<string> {
  for (let i = 0; i < 400; i++) {
    const summary = await store.getInstance(id);
    if (summary !== undefined && statuses.includes(summary.status)) return summary.status;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`instance ${id} did not settle`);
}

async function eventTypes(store: EventStore, id: string): Promise<string[]> {
  const events = decodeStream(await store.readStream(id));
  if (E.isLeft(events)) throw new Error(events.left.message);
  return events.right.map((event) => event.type);
}

describe('Engine', () => {
  it('runs a saga to completion: decide, append, then act', async () => {
    const store = createMemoryEventStore();
    const { engine } = engineOn(store, { reserve: ok({ ref: 'r1' }), charge: ok({ paid: true }), release: ok(null) });
    await engine.start();
    const started = await engine.startSaga('quick-order', 'o-1', { id: 'o-1' });
    expect(E.isRight(started) && started.right.status).toBe('running');
    expect(await settled(store, 'o-1')).toBe('completed');
    expect(await eventTypes(store, 'o-1')).toEqual([
      'SagaStarted', 'StepDispatched', 'TimerScheduled',
      'StepSucceeded', 'StepDispatched', 'TimerScheduled',
      'StepSucceeded', 'SagaCompleted',
    ]);
    expect(engine.cachedInstances).toBe(0);
    await engine.stop();
  });

  it('retries a timed-out attempt through its durable timer, then compensates on a declined charge', async () => {
    const store = createMemoryEventStore();
    const reserveCalls: number[] = [];
    const released: string[] = [];
    const { engine } = engineOn(store, {
      reserve: (effect) => {
        reserveCalls.push(effect.attempt);
        return effect.attempt === 1 ? new Promise<ReplyOutcome>(() => undefined) : Promise.resolve({ ok: true, reply: { ref: 'r2' } });
      },
      charge: () => Promise.resolve({ ok: false, error: { code: 'Declined', message: 'no funds' } }),
      release: (effect) => {
        released.push(effect.key);
        return Promise.resolve({ ok: true });
      },
    });
    await engine.start();
    await engine.startSaga('quick-order', 'o-2', { id: 'o-2' });
    expect(await settled(store, 'o-2')).toBe('compensated');
    expect(reserveCalls).toEqual([1, 2]);
    expect(released).toEqual(['o-2/reserve/compensation']);
    const types = await eventTypes(store, 'o-2');
    expect(types).toContain('StepTimedOut');
    expect(types.filter((type) => type === 'StepFailed')).toHaveLength(1);
    await engine.stop();
  });

  it('rejects bad input with a typed error and keeps serving other instances', async () => {
    const store = createMemoryEventStore();
    const { engine } = engineOn(store, { reserve: ok({ ref: 'r' }), charge: ok({ paid: true }) });
    await engine.start();
    const bad = await engine.startSaga('quick-order', 'o-bad', { id: 42 });
    expect(E.isLeft(bad) && bad.left._tag).toBe('InvalidInput');
    expect(E.isLeft(bad) && bad.left.message).toContain('id: expected string, got 42');
    const unknown = await engine.startSaga('no-such-saga', 'o-x', {});
    expect(E.isLeft(unknown) && unknown.left._tag).toBe('UnknownSaga');
    const twice = await engine.startSaga('quick-order', 'o-3', { id: 'o-3' });
    const again = await engine.startSaga('quick-order', 'o-3', { id: 'o-3' });
    expect(E.isRight(twice)).toBe(true);
    expect(E.isLeft(again) && again.left._tag).toBe('InstanceExists');
    expect(await settled(store, 'o-3')).toBe('completed');
    expect(await store.getInstance('o-bad')).toBeUndefined();
    const missing = await engine.intervene('o-missing', 'abort', 'ops', 'typo');
    expect(E.isLeft(missing) && missing.left).toMatchObject({ _tag: 'InstanceNotFound', instanceId: 'o-missing' });
    await engine.stop();
  });

  it('starts a new instance without reading its stream, and still refuses a repeated start after reading it', async () => {
    const store = createMemoryEventStore();
    const reads: string[] = [];
    const counted: EventStore = { ...store, readStream: (id) => (reads.push(id), store.readStream(id)) };
    const { engine } = engineOn(counted, { reserve: ok({ ref: 'r' }), charge: ok({ paid: true }) });
    await engine.start();
    expect(E.isRight(await engine.startSaga('quick-order', 'o-new', { id: 'o-new' }))).toBe(true);
    expect(await settled(store, 'o-new')).toBe('completed');
    expect(reads).toEqual([]);
    // Finished, so no longer in memory: the start is decided as new, the append finds the stream, the
    // instance is read and the start refused, as a repeat and not as a lost race.
    const again = await engine.startSaga('quick-order', 'o-new', { id: 'o-new' });
    expect(E.isLeft(again) && again.left._tag).toBe('InstanceExists');
    // Input that is refused as new is decided again on the stored instance, which answers first.
    const invalid = await engine.startSaga('quick-order', 'o-new', { id: 7 });
    expect(E.isLeft(invalid) && invalid.left._tag).toBe('InstanceExists');
    expect(reads).toEqual(['o-new', 'o-new']);
    expect(engine.conflictsResolved).toBe(0);
    expect((await eventTypes(store, 'o-new')).filter((type) => type === 'SagaStarted')).toHaveLength(1);
    await engine.stop();
  });

  it('reloads and decides again when another engine appended first', async () => {
    const store = createMemoryEventStore();
    let answerCharge: (outcome: ReplyOutcome) => void = () => undefined;
    const a = engineOn(store, {
      reserve: ok({ ref: 'r' }),
      charge: () => new Promise<ReplyOutcome>((resolve) => (answerCharge = resolve)),
      release: ok(null),
    });
    const b = engineOn(store, { release: ok(null) });
    await a.engine.start();
    await b.engine.start();
    await a.engine.startSaga('quick-order', 'o-4', { id: 'o-4' });
    for (let i = 0; i < 100 && !(await eventTypes(store, 'o-4')).includes('StepSucceeded'); i++) await new Promise((r) => setTimeout(r, 5));
    // Engine B (no cache) aborts the instance while engine A still holds the old state in memory.
    const aborted = await b.engine.intervene('o-4', 'abort', 'ops', 'customer cancelled');
    expect(E.isRight(aborted) && aborted.right.status).toBe('compensating');
    // A's stale decision conflicts, A reloads, and the late charge reply is now stale: no event.
    answerCharge({ ok: true, reply: { paid: true } });
    expect(await settled(store, 'o-4')).toBe('compensated');
    for (let i = 0; i < 100 && a.engine.conflictsResolved === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(a.engine.conflictsResolved).toBe(1);
    const types = await eventTypes(store, 'o-4');
    expect(types.filter((type) => type === 'StepSucceeded')).toHaveLength(1);
    expect(types.filter((type) => type === 'OperatorIntervened')).toHaveLength(1);
    expect(types.filter((type) => type === 'CompensationDispatched').length).toBeGreaterThanOrEqual(1);
    await a.engine.stop();
    await b.engine.stop();
  });

  it('recovers unfinished instances on start: repeats awaited dispatches and re-arms timers', async () => {
    const store = createMemoryEventStore();
    const first = engineOn(store, { reserve: () => new Promise<ReplyOutcome>(() => undefined) });
    await first.engine.start();
    for (let n = 0; n < 5; n++) await first.engine.startSaga('quick-order', `o-r${n}`, { id: `o-r${n}` });
    await first.engine.stop();
    await first.transport.close();

    const delivered: string[] = [];
    const second = engineOn(store, {
      reserve: (effect) => {
        delivered.push(effect.id);
        return Promise.resolve({ ok: true, reply: { ref: 'r' } });
      },
      charge: ok({ paid: true }),
    });
    const report = await second.engine.start();
    expect(report).toMatchObject({ instances: 5, failed: 0 });
    expect(report.redispatched).toBeGreaterThanOrEqual(5);
    for (let n = 0; n < 5; n++) expect(await settled(store, `o-r${n}`)).toBe('completed');
    // The awaited attempt is repeated under its original effect id, so the worker can recognise it.
    for (let n = 0; n < 5; n++) expect(delivered).toContain(`o-r${n}/reserve/action/1`);
    await second.engine.stop();
  });
});
