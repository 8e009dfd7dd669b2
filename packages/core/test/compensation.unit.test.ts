/** Compensations: their own retry budget, `stuck`, and the operator's retry and skip. */
import { describe, expect, it } from 'vitest';
import type { SagaInput } from '../src/decider.js';
import { contextOf, summaryOf } from '../src/instance-state.js';
import { createRegistry } from '../src/registry.js';
import { backoffDelay } from '../src/retry-policy.js';
import { compensationFails, compensationSucceeds, operator, sagaSpec, stepFails, stepSucceeds, timerFires, type SagaSpec } from './support/saga-spec.js';
import { orderFulfilment, orderInput, reserveInventory } from './support/test-sagas.js';

const registry = createRegistry([orderFulfilment]);
const id = 'order-2';
const start: SagaInput = { type: 'start', saga: 'order-fulfilment', instanceId: id, input: orderInput };
const budget = reserveInventory.compensationRetryPolicy.maxAttempts;

/** chargePayment declined: reserveInventory is being released (attempt 1). */
const releasing = sagaSpec(registry).given(
  start,
  stepSucceeds('reserveInventory', { reservationId: 'res-1' }),
  { clock: 1_000 },
  stepFails('chargePayment', 'PaymentDeclined'),
);

/** `failures` compensation attempts of reserveInventory fail, each followed by its retry. */
const failReleases = (spec: SagaSpec, failures: number): SagaSpec => {
  let next = spec;
  for (let i = 0; i < failures; i++) next = next.given(compensationFails('reserveInventory'), timerFires('compensationRetry', 'reserveInventory'));
  return next;
};

/** Budget spent: the instance is stuck on reserveInventory. */
const stuck = failReleases(releasing, budget - 1).given(compensationFails('reserveInventory', 'WarehouseDown'));

describe('compensation retries', () => {
  it('a failed compensation is retried with its own backoff', () => {
    const dueAt = 1_000 + backoffDelay(reserveInventory.compensationRetryPolicy, 1, `${id}/reserveInventory/compensation/1`);
    releasing.when(compensationFails('reserveInventory')).then({
      events: [
        { type: 'CompensationFailed', step: 'reserveInventory', attempt: 1, error: { code: 'Unavailable', retryable: true } },
        { type: 'RetryScheduled', purpose: 'compensationRetry', step: 'reserveInventory', dueAt },
      ],
      effects: [{ type: 'schedule', dueAt }, { type: 'cancel' }],
      state: { compensating: { reserveInventory: 'backoff' } },
      status: 'compensating',
    });
    releasing.given(compensationFails('reserveInventory')).when(timerFires('compensationRetry', 'reserveInventory')).then({
      events: [
        { type: 'TimerFired' },
        { type: 'CompensationDispatched', step: 'reserveInventory', attempt: 2, effectId: `${id}/reserveInventory/compensation/2`, command: { reservationId: 'res-1' } },
        { type: 'TimerScheduled', purpose: 'compensationTimeout' },
      ],
      effects: [{ type: 'dispatch', key: `${id}/reserveInventory/compensation`, attempt: 2 }, { type: 'schedule' }],
    });
  });

  it('a compensation timing out is retried too', () => {
    releasing.when(timerFires('compensationTimeout', 'reserveInventory')).then({
      events: [{ type: 'CompensationTimedOut', step: 'reserveInventory', attempt: 1 }, { type: 'RetryScheduled', purpose: 'compensationRetry' }],
      status: 'compensating',
    });
  });

  it('within the budget, a success compensates the saga', () => {
    failReleases(releasing, budget - 1).when(compensationSucceeds('reserveInventory')).then({
      events: [{ type: 'CompensationSucceeded', attempt: budget }, { type: 'SagaCompensated', failure: { step: 'chargePayment', code: 'PaymentDeclined' } }],
      status: 'compensated',
    });
  });
});

describe('stuck', () => {
  it('the last allowed attempt failing makes the instance stuck and records why', () => {
    failReleases(releasing, budget - 1).when(compensationFails('reserveInventory', 'WarehouseDown')).then({
      events: [
        { type: 'CompensationFailed', step: 'reserveInventory', attempt: budget, status: 'stuck' },
        { type: 'SagaStuck', step: 'reserveInventory', error: { code: 'WarehouseDown' }, state: { compensating: { reserveInventory: 'stuck' } }, status: 'stuck' },
      ],
      effects: [{ type: 'cancel' }],
    });
    expect(stuck.state?.timers.size).toBe(0);
  });

  it('the last allowed attempt timing out makes it stuck with no error', () => {
    let waiting = releasing;
    for (let i = 1; i < budget; i++) {
      waiting = waiting.given(timerFires('compensationTimeout', 'reserveInventory'), timerFires('compensationRetry', 'reserveInventory'));
    }
    waiting.when(timerFires('compensationTimeout', 'reserveInventory')).then({
      events: [{ type: 'CompensationTimedOut', attempt: budget }, { type: 'SagaStuck', step: 'reserveInventory', error: null }],
      status: 'stuck',
    });
  });

  it('a stuck instance ignores late replies and refuses abort', () => {
    stuck.when({ type: 'reply', effectId: `${id}/reserveInventory/compensation/${budget}`, outcome: { ok: true } }).thenNothing();
    stuck.when(operator('abort')).thenFails({ _tag: 'InterventionRefused', action: 'abort', status: 'stuck' });
  });
});

describe('operator retry', () => {
  it('dispatches the compensation again with a fresh budget', () => {
    stuck.when(operator('retry', { by: 'bob', reason: 'warehouse back' })).then({
      events: [
        { type: 'OperatorIntervened', action: 'retry', by: 'bob', status: 'compensating' },
        { type: 'CompensationDispatched', step: 'reserveInventory', attempt: budget + 1, effectId: `${id}/reserveInventory/compensation/${budget + 1}` },
        { type: 'TimerScheduled', purpose: 'compensationTimeout' },
      ],
      effects: [{ type: 'dispatch', attempt: budget + 1 }, { type: 'schedule' }],
      state: { compensating: { reserveInventory: 'attempt' } },
    });
  });

  it('the fresh budget allows as many attempts as the first, then stuck again', () => {
    const retried = stuck.given(operator('retry'));
    const almost = failReleases(retried, budget - 1);
    expect(contextOf(almost.state ?? expect.unreachable()).compensationAttempts.reserveInventory).toBe(2 * budget);
    almost.when(compensationFails('reserveInventory')).then({
      events: [{ type: 'CompensationFailed', attempt: 2 * budget }, { type: 'SagaStuck', step: 'reserveInventory' }],
      status: 'stuck',
    });
  });

  it('may name the stuck step; naming another one is refused, not applied to the stuck one', () => {
    stuck.when(operator('retry', { step: 'reserveInventory' })).then({
      events: [{ type: 'OperatorIntervened', step: 'reserveInventory' }, { type: 'CompensationDispatched', step: 'reserveInventory' }, { type: 'TimerScheduled' }],
    });
    const error = stuck.when(operator('retry', { step: 'chargePayment' })).thenFails({ _tag: 'InterventionRefused', action: 'retry', status: 'stuck' });
    expect(error.message).toContain('not the stuck one');
  });

  it('then a success compensates the saga', () => {
    stuck.given(operator('retry')).when(compensationSucceeds('reserveInventory')).then({
      events: [{ type: 'CompensationSucceeded', attempt: budget + 1 }, { type: 'SagaCompensated' }],
      status: 'compensated',
      state: 'compensated',
    });
  });
});

describe('operator skip', () => {
  it('marks the stuck compensation resolved by hand and carries on', () => {
    stuck.when(operator('skip', { step: 'reserveInventory', by: 'carol', reason: 'released by hand' })).then({
      events: [
        { type: 'OperatorIntervened', action: 'skip', step: 'reserveInventory', by: 'carol' },
        { type: 'SagaCompensated', failure: { step: 'chargePayment', code: 'PaymentDeclined' } },
      ],
      effects: [],
      status: 'compensated',
    });
    stuck.when(operator('skip')).then({ events: [{ type: 'OperatorIntervened' }, { type: 'SagaCompensated' }], status: 'compensated' });
  });

  it('naming another step than the stuck one is refused', () => {
    const error = stuck.when(operator('skip', { step: 'chargePayment' })).thenFails({ _tag: 'InterventionRefused', action: 'skip', status: 'stuck' });
    expect(error.message).toContain('not the stuck compensation');
  });

  it('a skipped compensation in the middle lets the older ones run', () => {
    // createShipment fails for good: refund (stuck, skipped), then release.
    let refunding = sagaSpec(registry).given(
      start,
      stepSucceeds('reserveInventory', { reservationId: 'res-1' }),
      stepSucceeds('chargePayment', { paymentId: 'pay-1' }),
      stepFails('createShipment', 'AddressInvalid', { retryable: false }),
    );
    for (let i = 1; i < budget; i++) refunding = refunding.given(compensationFails('chargePayment'), timerFires('compensationRetry', 'chargePayment'));
    const stuckOnRefund = refunding.given(compensationFails('chargePayment'));
    expect(stuckOnRefund.state?.status).toBe('stuck');
    stuckOnRefund.when(operator('skip', { step: 'chargePayment' })).then({
      events: [
        { type: 'OperatorIntervened', action: 'skip' },
        { type: 'CompensationDispatched', step: 'reserveInventory', attempt: 1 },
        { type: 'TimerScheduled', purpose: 'compensationTimeout', step: 'reserveInventory' },
      ],
      status: 'compensating',
    });
  });
});

describe('the listing row of a compensating instance', () => {
  it('names the compensation and counts its attempts, also when stuck on it', () => {
    const row = summaryOf(stuck.state!);
    expect({ currentStep: row.currentStep, attempts: row.attempts, status: row.status }).toEqual({ currentStep: 'reserveInventory', attempts: budget, status: 'stuck' });
  });
});
