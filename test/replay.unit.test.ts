/**
 * Replay of recorded histories (test/fixtures/histories, written once by generate.ts and
 * committed) through today's `sagas/order-fulfilment.saga.ts`; a changed definition under the
 * same name and version is reported as a divergence, not silently applied.
 */
import { readFileSync, readdirSync } from 'node:fs';
import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { createRegistry, decide, decodeWith, replay, saga, SagaEvent, type AnySagaDefinition, type SagaError } from '@sagaflow/core';
import order, { chargePayment, createShipment, reserveInventory, type OrderInput } from '../sagas/order-fulfilment.saga.js';

const directory = new URL('./fixtures/histories/', import.meta.url);

/** The fixtures and the end each one was recorded in. */
const expectedEnds: Record<string, { status: string; state: unknown }> = {
  completed: { status: 'completed', state: 'completed' },
  compensated: { status: 'compensated', state: 'compensated' },
  stuck: { status: 'stuck', state: { compensating: { reserveInventory: 'stuck' } } },
  'stuck-then-retried': { status: 'compensated', state: 'compensated' },
  'in-flight-retry': { status: 'running', state: { chargePayment: 'backoff' } },
};

function load(name: string): SagaEvent[] {
  const raw = JSON.parse(readFileSync(new URL(`${name}.json`, directory), 'utf8')) as unknown;
  if (!Array.isArray(raw)) throw new Error(`${name}.json is not an array of events`);
  return raw.map((value: unknown, revision) => {
    const decoded = decodeWith(SagaEvent, value);
    if (E.isLeft(decoded)) throw new Error(`${name}.json, revision ${revision}: ${decoded.left.map((p) => `${p.path}: expected ${p.expected}`).join('; ')}`);
    return decoded.right;
  });
}

const instanceIdOf = (events: readonly SagaEvent[]): string => {
  const first = events[0];
  if (first?.type !== 'SagaStarted') throw new Error('a history starts with SagaStarted');
  return first.instanceId;
};

const replayWith = (definition: AnySagaDefinition, events: readonly SagaEvent[]) => replay(createRegistry([definition]), instanceIdOf(events), events);

const divergence = (result: E.Either<SagaError, unknown>): Extract<SagaError, { _tag: 'HistoryDiverged' }> => {
  if (E.isRight(result) || result.left._tag !== 'HistoryDiverged') throw new Error(`expected HistoryDiverged, got ${JSON.stringify(E.isLeft(result) ? result.left : 'a state')}`);
  return result.left;
};

describe('recorded histories replay through today’s definition', () => {
  it('the fixture directory holds exactly the expected histories', () => {
    const files = readdirSync(directory).filter((file) => file.endsWith('.json')).map((file) => file.replace(/\.json$/, ''));
    expect(files.sort()).toEqual(Object.keys(expectedEnds).sort());
  });

  it.each(Object.entries(expectedEnds))('%s', (name, end) => {
    const events = load(name);
    const last = events.at(-1);
    expect(last).toMatchObject(end);
    const replayed = replayWith(order, events);
    if (E.isLeft(replayed)) throw new Error(replayed.left.message);
    expect(replayed.right.snapshot.value).toEqual(last?.state);
    expect(replayed.right.status).toBe(last?.status);
    expect(replayed.right.revision).toBe(events.length - 1);
  });

  it('an in-flight history carries on from where it stopped', () => {
    const events = load('in-flight-retry');
    const replayed = replayWith(order, events);
    if (E.isLeft(replayed)) throw new Error(replayed.left.message);
    const [retry] = [...replayed.right.timers.values()];
    expect(retry).toMatchObject({ purpose: 'stepRetry', step: 'chargePayment' });
    const decided = decide(createRegistry([order]), replayed.right, { type: 'timer', timerId: retry?.timerId ?? '' }, retry?.dueAt ?? 0);
    if (E.isLeft(decided)) throw new Error(decided.left.message);
    expect(decided.right.events.map((event) => event.type)).toEqual(['TimerFired', 'StepDispatched', 'TimerScheduled']);
    expect(decided.right.events[1]).toMatchObject({ step: 'chargePayment', attempt: 2, effectId: 'fx-in-flight/chargePayment/action/2' });
  });
});

describe('a changed definition under the same name and version', () => {
  const OrderInputC = order.input as t.Type<OrderInput, unknown, unknown>;
  const changed = saga('order-fulfilment', { version: 1, input: OrderInputC });

  it('a step inserted before the one in flight: HistoryDiverged naming saga, version, revision and event type', () => {
    const fraudCheck = changed.step({
      name: 'fraudCheck',
      command: t.type({ orderId: t.string }),
      reply: t.type({ score: t.number }),
      toCommand: ({ input }) => ({ orderId: input.orderId }),
    });
    const error = divergence(replayWith(changed.define([reserveInventory, fraudCheck, chargePayment, createShipment]), load('in-flight-retry')));
    expect(error).toMatchObject({
      saga: 'order-fulfilment',
      version: 1,
      instanceId: 'fx-in-flight',
      revision: 4,
      eventType: 'StepDispatched',
      expected: 'StepDispatched fraudCheck 1',
      actual: 'StepDispatched chargePayment 1',
    });
    expect(error.message).toContain('saga "order-fulfilment" version 1 at revision 4 (StepDispatched)');
  });

  it('steps reordered: diverges at the first dispatch', () => {
    const error = divergence(replayWith(changed.define([chargePayment, reserveInventory, createShipment]), load('in-flight-retry')));
    expect(error).toMatchObject({ saga: 'order-fulfilment', version: 1, revision: 1, eventType: 'StepDispatched' });
    expect(error.message).toContain('saga "order-fulfilment" version 1 at revision 1 (StepDispatched)');
  });

  it('a smaller retry budget: the recorded retry is not what the definition now decides', () => {
    const impatient = changed.step({ ...chargePayment, retry: { ...chargePayment.retryPolicy, maxAttempts: 1 } });
    const error = divergence(replayWith(changed.define([reserveInventory, impatient, createShipment]), load('in-flight-retry')));
    expect(error).toMatchObject({
      saga: 'order-fulfilment',
      version: 1,
      revision: 7,
      eventType: 'RetryScheduled',
      expected: 'CompensationDispatched reserveInventory 1',
    });
    expect(error.message).toContain('saga "order-fulfilment" version 1 at revision 7 (RetryScheduled)');
  });
});
