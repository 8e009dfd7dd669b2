/** Dead letters: a command (or its reply) that could not be delivered stops its instance as `stuck` for an operator. */
import { describe, it } from 'vitest';
import type { SagaInput } from '../src/decider.js';
import { createRegistry } from '../src/registry.js';
import { compensationSucceeds, deadLettered, operator, sagaSpec, stepFails, stepSucceeds } from './support/saga-spec.js';
import { orderFulfilment, orderInput } from './support/test-sagas.js';

const registry = createRegistry([orderFulfilment]);
const id = 'order-9';
const start: SagaInput = { type: 'start', saga: 'order-fulfilment', instanceId: id, input: orderInput };
const charging = sagaSpec(registry).given(start, stepSucceeds('reserveInventory', { reservationId: 'res-1' }));
const chargeDeadLettered = charging.given(deadLettered('chargePayment'));

describe('a dead-lettered step command', () => {
  it('makes the instance stuck on that step, its outcome unknown', () => {
    charging.when(deadLettered('chargePayment', 'action', 'delivered 5 times, never acknowledged')).then({
      events: [
        { type: 'EffectDeadLettered', step: 'chargePayment', attempt: 1, kind: 'action', reason: 'delivered 5 times, never acknowledged' },
        {
          type: 'SagaStuck',
          step: 'chargePayment',
          error: { code: 'DeadLettered', message: 'delivered 5 times, never acknowledged', retryable: false },
          status: 'stuck',
        },
      ],
      effects: [{ type: 'cancel' }],
      status: 'stuck',
      state: { chargePayment: 'stuck' },
    });
  });

  it('operator retry dispatches a new attempt with a fresh budget', () => {
    chargeDeadLettered.when(operator('retry')).then({
      events: [
        { type: 'OperatorIntervened', action: 'retry' },
        { type: 'StepDispatched', step: 'chargePayment', attempt: 2, effectId: `${id}/chargePayment/action/2` },
        { type: 'TimerScheduled', purpose: 'stepTimeout', step: 'chargePayment' },
      ],
      status: 'running',
    });
  });

  it('operator abort compensates the dead-lettered step (it may have run) and the completed ones, newest first', () => {
    chargeDeadLettered
      .given(operator('abort'))
      .when(compensationSucceeds('chargePayment'))
      .then({
        events: [
          { type: 'CompensationSucceeded', step: 'chargePayment' },
          { type: 'CompensationDispatched', step: 'reserveInventory', attempt: 1 },
          { type: 'TimerScheduled', purpose: 'compensationTimeout' },
        ],
        status: 'compensating',
      });
  });

  it('is ignored when the dispatch is no longer awaited', () => {
    const staleDeadLetter: SagaInput = { type: 'deadLetter', effectId: `${id}/reserveInventory/action/1`, reason: 'late advisory' };
    charging.when(staleDeadLetter).thenNothing();
  });
});

describe('a dead-lettered compensation', () => {
  const releasing = charging.given(stepFails('chargePayment', 'PaymentDeclined'));

  it('makes the instance stuck on that compensation; retry dispatches it again', () => {
    releasing.when(deadLettered('reserveInventory', 'compensation')).then({
      events: [{ type: 'EffectDeadLettered', kind: 'compensation', step: 'reserveInventory' }, { type: 'SagaStuck', step: 'reserveInventory' }],
      effects: [{ type: 'cancel' }],
      status: 'stuck',
      state: { compensating: { reserveInventory: 'stuck' } },
    });
    releasing
      .given(deadLettered('reserveInventory', 'compensation'))
      .when(operator('retry'))
      .then({
        events: [
          { type: 'OperatorIntervened', action: 'retry' },
          { type: 'CompensationDispatched', step: 'reserveInventory', attempt: 2 },
          { type: 'TimerScheduled', purpose: 'compensationTimeout' },
        ],
        status: 'compensating',
      });
  });
});
