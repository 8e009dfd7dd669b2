/**
 * The decider on a sequential saga, as given events / when input / then events and effects.
 * Compensation budgets and operator repair: compensation.unit.test.ts; parallel groups and
 * hand-written machines: parallel.unit.test.ts; bad input: bad-input.unit.test.ts.
 */
import * as t from 'io-ts';
import { describe, expect, it } from 'vitest';
import { decide, type SagaInput } from '../src/decider.js';
import { replay } from '../src/replay.js';
import { createRegistry } from '../src/registry.js';
import { backoffDelay } from '../src/retry-policy.js';
import { saga } from '../src/saga-definition.js';
import { contextOf } from '../src/instance-state.js';
import { compensationSucceeds, operator, sagaSpec, stepFails, stepSucceeds, timerFires } from './support/saga-spec.js';
import { chargePayment, createShipment, orderFulfilment, orderInput, reserveInventory } from './support/test-sagas.js';

const registry = createRegistry([orderFulfilment]);
const id = 'order-1';
const start: SagaInput = { type: 'start', saga: 'order-fulfilment', instanceId: id, input: orderInput };
const action = (step: string, attempt: number): string => `${id}/${step}/action/${attempt}`;
const compensation = (step: string, attempt: number): string => `${id}/${step}/compensation/${attempt}`;
const timer = (revision: number): string => `${id}/timer/${revision}`;
const retryDelay = (step: { retryPolicy: Parameters<typeof backoffDelay>[0] }, name: string, attempt: number): number =>
  backoffDelay(step.retryPolicy, attempt, `${id}/${name}/${attempt}`);

const spec = sagaSpec(registry);
const started = spec.given(start);
const reserved = started.given({ clock: 100 }, stepSucceeds('reserveInventory', { reservationId: 'res-1' }));
const charged = reserved.given({ clock: 200 }, stepSucceeds('chargePayment', { paymentId: 'pay-1' }));

describe('happy path', () => {
  it('start records the input and version, dispatches the first step and arms its timeout', () => {
    spec.when(start, 1_000).then({
      events: [
        { type: 'SagaStarted', saga: 'order-fulfilment', sagaVersion: 1, instanceId: id, input: orderInput, at: 1_000, state: { reserveInventory: 'attempt' }, status: 'running' },
        { type: 'StepDispatched', step: 'reserveInventory', attempt: 1, effectId: action('reserveInventory', 1), command: { orderId: 'o-1', items: orderInput.items } },
        { type: 'TimerScheduled', timerId: timer(2), purpose: 'stepTimeout', step: 'reserveInventory', dueAt: 6_000 },
      ],
      effects: [
        {
          type: 'dispatch',
          id: action('reserveInventory', 1),
          key: `${id}/reserveInventory/action`,
          kind: 'action',
          saga: 'order-fulfilment',
          instanceId: id,
          step: 'reserveInventory',
          operation: 'reserveInventory',
          attempt: 1,
        },
        { type: 'schedule', instanceId: id, timerId: timer(2), dueAt: 6_000 },
      ],
    });
  });

  it('a success moves to the next step and cancels the timeout of the one that replied', () => {
    started.when(stepSucceeds('reserveInventory', { reservationId: 'res-1' }), 100).then({
      events: [
        { type: 'StepSucceeded', step: 'reserveInventory', attempt: 1, effectId: action('reserveInventory', 1), reply: { reservationId: 'res-1' } },
        { type: 'StepDispatched', step: 'chargePayment', attempt: 1, command: { orderId: 'o-1', customerId: 'c-1', amountCents: 4_200 } },
        { type: 'TimerScheduled', timerId: timer(5), purpose: 'stepTimeout', step: 'chargePayment', dueAt: 5_100 },
      ],
      effects: [
        { type: 'dispatch', id: action('chargePayment', 1) },
        { type: 'schedule', timerId: timer(5), dueAt: 5_100 },
        { type: 'cancel', timerId: timer(2) },
      ],
      status: 'running',
      state: { chargePayment: 'attempt' },
    });
  });

  it('three successes complete the saga; later steps read earlier replies', () => {
    charged.given({ clock: 300 }).when(stepSucceeds('createShipment', { trackingNumber: 'trk-1' })).then({
      events: [
        { type: 'StepSucceeded', step: 'createShipment', attempt: 1 },
        { type: 'SagaCompleted', state: 'completed', status: 'completed', at: 300 },
      ],
      effects: [{ type: 'cancel', timerId: timer(8) }],
    });
    const shipment = charged.history.find((event) => event.type === 'StepDispatched' && event.step === 'createShipment');
    expect(shipment).toMatchObject({ command: { orderId: 'o-1', reservationId: 'res-1', address: '1 Main St' } });
  });
});

describe('retryable failure within budget', () => {
  const failed = reserved.given({ clock: 1_000 }, stepFails('chargePayment', 'Unavailable'));

  it('schedules a retry with a backoff decided once, and cancels the attempt timeout', () => {
    const dueAt = 1_000 + retryDelay(chargePayment, 'chargePayment', 1);
    expect(dueAt).toBeGreaterThanOrEqual(1_080);
    expect(dueAt).toBeLessThanOrEqual(1_120);
    reserved.given({ clock: 1_000 }).when(stepFails('chargePayment', 'Unavailable')).then({
      events: [
        { type: 'StepFailed', step: 'chargePayment', attempt: 1, error: { code: 'Unavailable', retryable: true }, state: { chargePayment: 'backoff' } },
        { type: 'RetryScheduled', timerId: timer(7), purpose: 'stepRetry', step: 'chargePayment', dueAt },
      ],
      effects: [
        { type: 'schedule', timerId: timer(7), dueAt },
        { type: 'cancel', timerId: timer(5) },
      ],
      status: 'running',
    });
  });

  it('the retry timer re-dispatches with attempt 2: a new effect id, the same idempotency key', () => {
    const outcome = failed.when(timerFires('stepRetry', 'chargePayment')).then({
      events: [
        { type: 'TimerFired', timerId: timer(7) },
        { type: 'StepDispatched', step: 'chargePayment', attempt: 2, effectId: action('chargePayment', 2) },
        { type: 'TimerScheduled', purpose: 'stepTimeout', step: 'chargePayment' },
      ],
      effects: [
        { type: 'dispatch', id: action('chargePayment', 2), key: `${id}/chargePayment/action`, attempt: 2 },
        { type: 'schedule' },
      ],
      state: { chargePayment: 'attempt' },
    });
    expect(outcome.effects[0]).toMatchObject({ command: { orderId: 'o-1', customerId: 'c-1', amountCents: 4_200 } });
  });

  it('attempt 2 succeeding carries on as if nothing happened', () => {
    failed.given(timerFires('stepRetry', 'chargePayment')).when(stepSucceeds('chargePayment', { paymentId: 'pay-2' })).then({
      events: [
        { type: 'StepSucceeded', step: 'chargePayment', attempt: 2, effectId: action('chargePayment', 2) },
        { type: 'StepDispatched', step: 'createShipment', attempt: 1 },
        { type: 'TimerScheduled', purpose: 'stepTimeout', step: 'createShipment' },
      ],
      status: 'running',
    });
  });

  it('backoff is deterministic: the same history decides the same due time', () => {
    const once = failed.history;
    const again = reserved.given({ clock: 1_000 }, stepFails('chargePayment', 'Unavailable')).history;
    expect(again).toEqual(once);
    const input = { type: 'reply', effectId: action('chargePayment', 1), outcome: { ok: false, error: { code: 'Unavailable', message: 'x' } } } as const;
    const first = decide(registry, reserved.state, input, 1_000);
    const second = decide(registry, reserved.state, input, 1_000);
    expect(second).toEqual(first);
  });

  it('the backoff grows with the attempt', () => {
    const second = failed.given(timerFires('stepRetry', 'chargePayment'), { clock: 2_000 });
    second.when(stepFails('chargePayment', 'Unavailable')).then({
      events: [{ type: 'StepFailed', attempt: 2 }, { type: 'RetryScheduled', dueAt: 2_000 + retryDelay(chargePayment, 'chargePayment', 2) }],
    });
    expect(retryDelay(chargePayment, 'chargePayment', 2)).toBeGreaterThanOrEqual(160);
  });
});

describe('retry budget exhausted', () => {
  /** createShipment (4 attempts) fails retryably every time. */
  let failing = charged;
  for (let attempt = 1; attempt < createShipment.retryPolicy.maxAttempts; attempt++) {
    failing = failing.given(stepFails('createShipment', 'Unavailable'), timerFires('stepRetry', 'createShipment'));
  }

  it('the last allowed attempt failing compensates the completed steps, newest first', () => {
    failing.when(stepFails('createShipment', 'Unavailable')).then({
      events: [
        { type: 'StepFailed', step: 'createShipment', attempt: 4, status: 'compensating' },
        {
          type: 'CompensationDispatched',
          step: 'chargePayment',
          attempt: 1,
          effectId: compensation('chargePayment', 1),
          command: { orderId: 'o-1', paymentId: 'pay-1', amountCents: 4_200 },
        },
        { type: 'TimerScheduled', purpose: 'compensationTimeout', step: 'chargePayment' },
      ],
      effects: [
        { type: 'dispatch', kind: 'compensation', operation: 'refundPayment', key: `${id}/chargePayment/compensation`, id: compensation('chargePayment', 1) },
        { type: 'schedule' },
        { type: 'cancel' },
      ],
      state: { compensating: { chargePayment: 'attempt' } },
      status: 'compensating',
    });
  });

  it('then the one before it, then the saga is compensated with the failure that caused it', () => {
    const refunded = failing.given(stepFails('createShipment', 'Unavailable'));
    const releasing = refunded.when(compensationSucceeds('chargePayment')).then({
      events: [
        { type: 'CompensationSucceeded', step: 'chargePayment', attempt: 1 },
        { type: 'CompensationDispatched', step: 'reserveInventory', attempt: 1, command: { orderId: 'o-1', reservationId: 'res-1' } },
        { type: 'TimerScheduled', purpose: 'compensationTimeout', step: 'reserveInventory' },
      ],
      effects: [{ type: 'dispatch', operation: 'releaseInventory' }, { type: 'schedule' }, { type: 'cancel' }],
    });
    expect(releasing.history.filter((event) => event.type === 'StepDispatched' && event.step === 'createShipment')).toHaveLength(4);
    refunded.given(compensationSucceeds('chargePayment')).when(compensationSucceeds('reserveInventory')).then({
      events: [
        { type: 'CompensationSucceeded', step: 'reserveInventory' },
        { type: 'SagaCompensated', status: 'compensated', state: 'compensated', failure: { step: 'createShipment', code: 'Unavailable' } },
      ],
      effects: [{ type: 'cancel' }],
    });
  });
});

describe('non-retryable failure', () => {
  const compensatesAtOnce = {
    events: [
      { type: 'StepFailed', step: 'chargePayment', attempt: 1, error: { retryable: false } },
      { type: 'CompensationDispatched', step: 'reserveInventory', attempt: 1, command: { reservationId: 'res-1' } },
      { type: 'TimerScheduled', purpose: 'compensationTimeout' },
    ],
    effects: [{ type: 'dispatch', kind: 'compensation' }, { type: 'schedule' }, { type: 'cancel', timerId: timer(5) }],
    status: 'compensating',
  } as const;

  it('an error code the step lists in nonRetryable compensates at once', () => {
    expect(chargePayment.nonRetryable).toContain('PaymentDeclined');
    reserved.when(stepFails('chargePayment', 'PaymentDeclined')).then(compensatesAtOnce);
  });

  it('a failure the worker marks retryable: false compensates at once', () => {
    reserved.when(stepFails('chargePayment', 'CardExpired', { retryable: false })).then(compensatesAtOnce);
  });

  it('a first step failing for good has nothing to compensate', () => {
    started.when(stepFails('reserveInventory', 'OutOfStock', { retryable: false })).then({
      events: [{ type: 'StepFailed' }, { type: 'SagaCompensated', failure: { step: 'reserveInventory', code: 'OutOfStock' } }],
      effects: [{ type: 'cancel', timerId: timer(2) }],
      status: 'compensated',
    });
  });
});

describe('timeout', () => {
  const timedOut = started.given(timerFires('stepTimeout', 'reserveInventory'));

  it('counts as a retryable failure of unknown outcome: retried with backoff', () => {
    started.when(timerFires('stepTimeout', 'reserveInventory')).then({
      events: [
        { type: 'StepTimedOut', step: 'reserveInventory', attempt: 1, timerId: timer(2), at: 5_000 },
        { type: 'RetryScheduled', purpose: 'stepRetry', step: 'reserveInventory', dueAt: 5_000 + retryDelay(reserveInventory, 'reserveInventory', 1) },
      ],
      effects: [{ type: 'schedule' }],
      state: { reserveInventory: 'backoff' },
    });
    expect(contextOf(timedOut.state ?? expect.unreachable()).toCompensate).toEqual(['reserveInventory']);
  });

  it('a late reply to the timed-out attempt is ignored', () => {
    timedOut.when(stepSucceeds('reserveInventory', { reservationId: 'late' })).thenNothing();
    timedOut.given(timerFires('stepRetry', 'reserveInventory')).when({
      type: 'reply',
      effectId: action('reserveInventory', 1),
      outcome: { ok: true, reply: { reservationId: 'late' } },
    }).thenNothing();
  });

  it('the step may have run: a rollback compensates it with no reply (reservationId null)', () => {
    timedOut
      .given(timerFires('stepRetry', 'reserveInventory'))
      .when(stepFails('reserveInventory', 'OutOfStock', { retryable: false }))
      .then({
        events: [
          { type: 'StepFailed', step: 'reserveInventory', attempt: 2 },
          { type: 'CompensationDispatched', step: 'reserveInventory', attempt: 1, command: { orderId: 'o-1', reservationId: null } },
          { type: 'TimerScheduled', purpose: 'compensationTimeout' },
        ],
        status: 'compensating',
      });
  });

  it('timing out on every attempt spends the budget and compensates the step', () => {
    let waiting = timedOut;
    for (let attempt = 2; attempt < reserveInventory.retryPolicy.maxAttempts; attempt++) {
      waiting = waiting.given(timerFires('stepRetry', 'reserveInventory'), timerFires('stepTimeout', 'reserveInventory'));
    }
    waiting
      .given(timerFires('stepRetry', 'reserveInventory'))
      .when(timerFires('stepTimeout', 'reserveInventory'))
      .then({
        events: [
          { type: 'StepTimedOut', step: 'reserveInventory', attempt: 3 },
          { type: 'CompensationDispatched', step: 'reserveInventory', command: { reservationId: null } },
          { type: 'TimerScheduled', purpose: 'compensationTimeout' },
        ],
        status: 'compensating',
      });
  });

  it('a retry that succeeds gives the compensation its reply', () => {
    timedOut
      .given(timerFires('stepRetry', 'reserveInventory'), stepSucceeds('reserveInventory', { reservationId: 'res-2' }))
      .when(stepFails('chargePayment', 'PaymentDeclined'))
      .then({
        events: [{ type: 'StepFailed' }, { type: 'CompensationDispatched', step: 'reserveInventory', command: { reservationId: 'res-2' } }, { type: 'TimerScheduled' }],
      });
  });
});

describe('stale and duplicate inputs', () => {
  it('the same reply twice: the second is ignored', () => {
    const reply = { type: 'reply', effectId: action('reserveInventory', 1), outcome: { ok: true, reply: { reservationId: 'res-1' } } } as const;
    started.given(reply).when(reply).thenNothing();
  });

  it('a reply to an earlier attempt of a retried step is ignored', () => {
    reserved
      .given(stepFails('chargePayment', 'Unavailable'), timerFires('stepRetry', 'chargePayment'))
      .when({ type: 'reply', effectId: action('chargePayment', 1), outcome: { ok: true, reply: { paymentId: 'old' } } })
      .thenNothing();
  });

  it('a failure reply twice: the second schedules no second retry', () => {
    const failure = { type: 'reply', effectId: action('chargePayment', 1), outcome: { ok: false, error: { code: 'Unavailable', message: 'x' } } } as const;
    reserved.given(failure).when(failure).thenNothing();
  });

  it('a reply nobody asked for, a timer fired twice or cancelled, replies to a finished saga: ignored', () => {
    started.when({ type: 'reply', effectId: `${id}/chargePayment/action/1`, outcome: { ok: true, reply: { paymentId: 'x' } } }).thenNothing();
    started.when({ type: 'reply', effectId: 'elsewhere/reserveInventory/action/1', outcome: { ok: true, reply: { reservationId: 'x' } } }).thenNothing();
    const retried = reserved.given(stepFails('chargePayment', 'Unavailable'), timerFires('stepRetry', 'chargePayment'));
    retried.when({ type: 'timer', timerId: timer(7) }).thenNothing();
    reserved.when({ type: 'timer', timerId: timer(2) }).thenNothing();
    const completed = charged.given(stepSucceeds('createShipment', { trackingNumber: 't' }));
    completed.when({ type: 'reply', effectId: action('createShipment', 1), outcome: { ok: false, error: { code: 'Late', message: 'late' } } }).thenNothing();
  });
});

describe('interventions', () => {
  it('are refused when the state does not allow them', () => {
    reserved.when(operator('retry')).thenFails({ _tag: 'InterventionRefused', instanceId: id, action: 'retry', status: 'running' });
    reserved.when(operator('skip', { step: 'chargePayment' })).thenFails({ _tag: 'InterventionRefused', action: 'skip', status: 'running' });
    const completed = charged.given(stepSucceeds('createShipment', { trackingNumber: 't' }));
    const refused = completed.when(operator('abort')).thenFails({ _tag: 'InterventionRefused', action: 'abort', status: 'completed' });
    expect(refused.message).toContain('only a running instance can be aborted');
    const compensating = reserved.given(stepFails('chargePayment', 'PaymentDeclined'));
    compensating.when(operator('abort')).thenFails({ _tag: 'InterventionRefused', action: 'abort', status: 'compensating' });
    compensating.when(operator('retry')).thenFails({ _tag: 'InterventionRefused', action: 'retry', status: 'compensating' });
  });

  it('abort of a running instance compensates the in-flight step (outcome unknown) and the completed ones', () => {
    const aborted = reserved.when(operator('abort', { by: 'alice', reason: 'customer cancelled' })).then({
      events: [
        { type: 'OperatorIntervened', action: 'abort', by: 'alice', reason: 'customer cancelled', step: null, status: 'compensating' },
        { type: 'CompensationDispatched', step: 'chargePayment', attempt: 1, command: { paymentId: null, amountCents: 4_200 } },
        { type: 'TimerScheduled', purpose: 'compensationTimeout', step: 'chargePayment' },
      ],
      effects: [{ type: 'dispatch', operation: 'refundPayment' }, { type: 'schedule' }, { type: 'cancel', timerId: timer(5) }],
    });
    const after = reserved.given(operator('abort', { by: 'alice', reason: 'customer cancelled' }));
    expect(aborted.history).toEqual(after.history);
    after.when(stepSucceeds('chargePayment', { paymentId: 'late' })).thenNothing();
    after.given(compensationSucceeds('chargePayment')).when(compensationSucceeds('reserveInventory')).then({
      events: [
        { type: 'CompensationSucceeded', step: 'reserveInventory' },
        { type: 'SagaCompensated', failure: { code: 'Aborted', step: 'chargePayment', message: 'aborted by alice: customer cancelled' } },
      ],
      status: 'compensated',
    });
  });

  it('abort during a retry backoff cancels the retry and compensates what completed', () => {
    reserved
      .given(stepFails('chargePayment', 'Unavailable'))
      .when(operator('abort'))
      .then({
        events: [
          { type: 'OperatorIntervened', action: 'abort' },
          { type: 'CompensationDispatched', step: 'reserveInventory' },
          { type: 'TimerScheduled', purpose: 'compensationTimeout' },
        ],
        effects: [{ type: 'dispatch' }, { type: 'schedule' }, { type: 'cancel', timerId: timer(7) }],
      });
  });

  it('abort during a retry backoff names the step that was waiting to retry as the failure', () => {
    reserved
      .given(stepFails('chargePayment', 'Unavailable'), operator('abort', { by: 'alice', reason: 'stop' }))
      .when(compensationSucceeds('reserveInventory'))
      .then({
        events: [
          { type: 'CompensationSucceeded', step: 'reserveInventory' },
          { type: 'SagaCompensated', failure: { code: 'Aborted', step: 'chargePayment', message: 'aborted by alice: stop' } },
        ],
        status: 'compensated',
      });
  });
});

describe('definitions', () => {
  const noop = { command: t.type({}), reply: t.type({}), toCommand: () => ({}) };
  const undo = { compensation: { name: 'undo', command: t.type({}), toCommand: () => ({}) } };

  it('refuse step and group names that would replace the machine’s own states', () => {
    // A step named "completed" used to be replaced by the end state: the saga completed without running it.
    for (const name of ['completed', 'compensated', 'compensating']) {
      const builder = saga('reserved', { version: 1, input: t.type({}) });
      expect(() => builder.define([builder.step({ name: 'first', ...noop }), builder.step({ name, ...noop })])).toThrow(/cannot name a step/);
    }
    // A compensable step named "next" used to replace the state that picks the next compensation.
    const builder = saga('reserved', { version: 1, input: t.type({}) });
    expect(() => builder.define([builder.step({ name: 'next', ...noop, ...undo })])).toThrow(/cannot name a step "next"/);
    const group = builder.parallel('completed', [builder.step({ name: 'a', ...noop }), builder.step({ name: 'b', ...noop })]);
    expect(() => builder.define([group])).toThrow(/cannot name a parallel group "completed"/);
  });
});

describe('trace of an instance', () => {
  it('a traced start records its span in SagaStarted, and the state keeps it through later inputs and replay', () => {
    const trace = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };
    const first = decide(registry, null, { ...start, trace }, 1_000);
    if (first._tag === 'Left') throw new Error(first.left.message);
    expect(first.right.events[0]).toMatchObject({ type: 'SagaStarted', trace });
    expect(first.right.state?.trace).toEqual(trace);
    const next = decide(registry, first.right.state, { type: 'reply', effectId: action('reserveInventory', 1), outcome: { ok: true, reply: { reservationId: 'res-1' } } }, 1_100);
    if (next._tag === 'Left') throw new Error(next.left.message);
    expect(next.right.state?.trace).toEqual(trace);
    const replayed = replay(registry, id, [...first.right.events, ...next.right.events]);
    if (replayed._tag === 'Left') throw new Error(replayed.left.message);
    expect(replayed.right.trace).toEqual(trace);
    // Untraced starts record nothing of the kind.
    const plain = decide(registry, null, start, 1_000);
    expect(plain._tag === 'Right' && 'trace' in plain.right.events[0]!).toBe(false);
  });
});
