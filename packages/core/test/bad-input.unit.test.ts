/** Poison input at the core: clear errors naming the offending field, never an exception. */
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { decide, type SagaInput } from '../src/decider.js';
import { replay } from '../src/replay.js';
import { createRegistry } from '../src/registry.js';
import { sagaSpec, stepSucceeds } from './support/saga-spec.js';
import { orderFulfilment, orderInput, tripBooking } from './support/test-sagas.js';

const registry = createRegistry([orderFulfilment, tripBooking]);
const start = (input: unknown, saga = 'order-fulfilment'): SagaInput => ({ type: 'start', saga, instanceId: 'bad-1', input });
const spec = sagaSpec(registry);

describe('input failing its codec', () => {
  it('names the path of the offending field inside an array', () => {
    const error = spec.when(start({ ...orderInput, items: [{ sku: 'a', quantity: 1 }, { sku: 'b', quantity: 'two' }] })).thenFails({
      _tag: 'InvalidInput',
      saga: 'order-fulfilment',
      problems: [{ path: 'items.1.quantity', expected: 'number', actual: '"two"' }],
    });
    expect(error.message).toBe('Invalid input for saga "order-fulfilment": items.1.quantity: expected number, got "two"');
  });

  it('names a missing top-level field', () => {
    const { amountCents: _, ...withoutAmount } = orderInput;
    spec.when(start(withoutAmount)).thenFails({ _tag: 'InvalidInput', problems: [{ path: 'amountCents', expected: 'number', actual: 'undefined' }] });
  });

  it('lists every offending field', () => {
    spec.when(start({ ...orderInput, orderId: 7, address: null })).thenFails({
      _tag: 'InvalidInput',
      problems: [
        { path: 'orderId', expected: 'string', actual: '7' },
        { path: 'address', expected: 'string', actual: 'null' },
      ],
    });
  });

  it('a value that is not an object at all is reported at the root', () => {
    spec.when(start('not an order')).thenFails({ _tag: 'InvalidInput', problems: [{ path: '(root)', actual: '"not an order"' }] });
    spec.when(start(undefined)).thenFails({ _tag: 'InvalidInput', problems: [{ path: '(root)', actual: 'undefined' }] });
  });
});

describe('unknown saga', () => {
  it('is refused, listing the sagas the registry knows', () => {
    const error = spec.when(start(orderInput, 'order-fulfillment')).thenFails({ _tag: 'UnknownSaga', saga: 'order-fulfillment', version: null });
    expect(error.message).toBe('Unknown saga "order-fulfillment"; known: order-fulfilment@1, trip-booking@1');
  });

  it('a history of a version the registry does not know is refused on replay, naming the version', () => {
    const history = spec.given(start(orderInput)).history.map((event) => (event.type === 'SagaStarted' ? { ...event, sagaVersion: 2 } : event));
    const replayed = replay(registry, 'bad-1', history);
    expect(replayed).toMatchObject(E.left({ _tag: 'UnknownSaga', saga: 'order-fulfilment', version: 2 }));
    expect(E.isLeft(replayed) && replayed.left.message).toBe('Unknown saga "order-fulfilment" version 2; known: order-fulfilment@1, trip-booking@1');
  });
});

describe('reply failing its codec', () => {
  const started = spec.given(start(orderInput));

  it('is refused with the path of the offending field, and decides nothing', () => {
    const error = started.when(stepSucceeds('reserveInventory', { reservationId: 42 })).thenFails({
      _tag: 'InvalidReply',
      instanceId: 'bad-1',
      step: 'reserveInventory',
      problems: [{ path: 'reservationId', expected: 'string', actual: '42' }],
    });
    expect(error.message).toBe('Invalid reply for step "reserveInventory" of instance "bad-1": reservationId: expected string, got 42');
  });

  it('a missing reply is reported at the root', () => {
    started.when(stepSucceeds('reserveInventory')).thenFails({ _tag: 'InvalidReply', problems: [{ path: '(root)', actual: 'undefined' }] });
  });

  it('the instance is unchanged: a good reply to the same effect is still accepted', () => {
    started.when(stepSucceeds('reserveInventory', { reservationId: 'res-1' })).then({
      events: [{ type: 'StepSucceeded', step: 'reserveInventory', attempt: 1 }, { type: 'StepDispatched', step: 'chargePayment' }, { type: 'TimerScheduled' }],
    });
  });
});

describe('none of them throws', () => {
  const garbage: readonly unknown[] = [undefined, null, 0, '', [], {}, { items: 'x' }, { items: [null] }];
  it.each(garbage.map((value) => [JSON.stringify(value) ?? 'undefined', value]))('start with %s', (_, value) => {
    let result: ReturnType<typeof decide> | undefined;
    expect(() => (result = decide(registry, null, start(value), 0))).not.toThrow();
    expect(result).toMatchObject(E.left({ _tag: 'InvalidInput' }));
  });

  it('replies with garbage', () => {
    const state = spec.given(start(orderInput)).state;
    for (const reply of garbage) {
      let result: ReturnType<typeof decide> | undefined;
      expect(() => (result = decide(registry, state, { type: 'reply', effectId: 'bad-1/reserveInventory/action/1', outcome: { ok: true, reply } }, 0))).not.toThrow();
      expect(result).toMatchObject(E.left({ _tag: 'InvalidReply' }));
    }
  });
});
