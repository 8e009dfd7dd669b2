/**
 * The decider computes transitions on one reused actor scope per machine instead of xstate's
 * `transition()`/`initialTransition()`, which build a new actor on every call. Both must give the same
 * snapshots and ask for the same actions, on every kind of machine: sequential, parallel, hand-written.
 */
import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type AnyMachineSnapshot, type AnyStateMachine, type EventObject } from 'xstate';
import { machineStart, machineTransition } from '../src/machine-transition.js';
import type { SagaMachineEvent, SagaMachineInput } from '../src/saga-context.js';
import { orderFulfilment, orderInput, parcelDispatch, tripBooking, tripInput } from './support/test-sagas.js';

type Action = { readonly type: string; readonly params?: unknown };
const plain = (actions: readonly Action[]) => actions.map((action) => ({ type: action.type, params: action.params }));
const view = (snapshot: AnyMachineSnapshot) => ({ value: snapshot.value as unknown, status: snapshot.status, context: snapshot.context as unknown, tags: [...snapshot.tags].sort() });

/** The delayed event a `raise` asked for (a retry's backoff or a timeout), as the engine's timer delivers it. */
type Next = SagaMachineEvent | ((actions: readonly Action[]) => EventObject);
const fire = (purpose: string) => (actions: readonly Action[]): EventObject => {
  const raised = actions.find((action) => action.type === 'xstate.raise' && String((action.params as { id?: unknown }).id).includes(purpose));
  if (raised === undefined) throw new Error(`no ${purpose} timer among ${actions.map((action) => action.type).join(', ')}`);
  return (raised.params as { event: EventObject }).event;
};

/** Runs the same events through both, compares every step, and gives the final value. */
function sameAsXstate(machine: AnyStateMachine, input: SagaMachineInput, events: readonly Next[]): unknown {
  let [ours, ourActions] = machineStart(machine, input);
  let [theirs, theirActions] = initialTransition(machine, input);
  expect(view(ours)).toEqual(view(theirs));
  expect(plain(ourActions)).toEqual(plain(theirActions));
  for (const next of events) {
    const event = typeof next === 'function' ? next(ourActions) : next;
    [ours, ourActions] = machineTransition(machine, ours, event);
    [theirs, theirActions] = transition(machine, theirs, event as never);
    expect(view(ours)).toEqual(view(theirs));
    expect(plain(ourActions)).toEqual(plain(theirActions));
  }
  return ours.value;
}

const start = (instanceId: string, input: unknown): SagaMachineInput => ({ instanceId, input, mode: 'started', at: 0, startAt: null });

describe('transitions on a reused actor scope', () => {
  it('match xstate on a sequential saga through a failure, a retry and compensation', () => {
    const end = sameAsXstate(orderFulfilment.machine, start('o-1', orderInput), [
      { type: 'step.succeeded', step: 'reserveInventory', attempt: 1, reply: { reservationId: 'r-1' } },
      { type: 'step.failed', step: 'chargePayment', attempt: 1, error: { code: 'Timeout', message: 'slow', retryable: true } },
      fire('stepRetry'),
      { type: 'step.failed', step: 'chargePayment', attempt: 2, error: { code: 'Declined', message: 'no', retryable: false } },
      fire('compensationTimeout'),
      fire('compensationRetry'),
      { type: 'compensation.succeeded', step: 'reserveInventory', attempt: 2 },
    ]);
    expect(end).toBe('compensated');
  });

  it('match xstate on a parallel group', () => {
    const end = sameAsXstate(tripBooking.machine, start('t-1', tripInput), [
      { type: 'step.succeeded', step: 'hotel', attempt: 1, reply: { ref: 'h-1' } },
      { type: 'step.succeeded', step: 'flight', attempt: 1, reply: { ref: 'f-1' } },
      { type: 'step.succeeded', step: 'car', attempt: 1, reply: { ref: 'c-1' } },
      { type: 'step.succeeded', step: 'charge', attempt: 1, reply: { chargeId: 'ch-1' } },
    ]);
    expect(end).toBe('completed');
  });

  it('match xstate on a hand-written machine', () => {
    const end = sameAsXstate(parcelDispatch.machine, start('p-1', { parcelId: 'p-1', express: true }), [
      { type: 'step.succeeded', step: 'pack', attempt: 1, reply: { boxId: 'b-1' } },
      { type: 'step.succeeded', step: 'courier', attempt: 1, reply: { trackingId: 'tr-1' } },
    ]);
    expect(end).toBe('completed');
  });

  it('keep instances apart: one scope serves many interleaved instances', () => {
    const [a] = machineStart(orderFulfilment.machine, start('a', orderInput));
    const [b] = machineStart(orderFulfilment.machine, start('b', orderInput));
    const succeeded: SagaMachineEvent = { type: 'step.succeeded', step: 'reserveInventory', attempt: 1, reply: { reservationId: 'r-a' } };
    const [a2, actions] = machineTransition(orderFulfilment.machine, a, succeeded);
    expect((a2.context as { instanceId: string; replies: object }).replies).toEqual({ reserveInventory: { reservationId: 'r-a' } });
    expect((b.context as { replies: object }).replies).toEqual({});
    expect(actions.map((action) => action.type)).toContain('dispatchStep');
  });
});
