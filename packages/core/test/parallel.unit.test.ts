/** Parallel groups (`trip-booking`: flight, hotel and car at once, then charge) and a hand-written machine with a branch. */
import { describe, expect, it } from 'vitest';
import type { SagaInput } from '../src/decider.js';
import { contextOf } from '../src/instance-state.js';
import { createRegistry } from '../src/registry.js';
import { compensationSucceeds, operator, sagaSpec, stepFails, stepSucceeds, timerFires } from './support/saga-spec.js';
import { parcelDispatch, tripBooking, tripInput } from './support/test-sagas.js';

const registry = createRegistry([tripBooking, parcelDispatch]);
const id = 'trip-1';
const start: SagaInput = { type: 'start', saga: 'trip-booking', instanceId: id, input: tripInput };
const started = sagaSpec(registry).given(start);
const bookingState = (flight: string, hotel: string, car: string) => ({ book: { flight, hotel, car } });

describe('parallel group, all branches succeed', () => {
  it('start dispatches every branch at once, each with its timeout', () => {
    sagaSpec(registry).when(start, 0).then({
      events: [
        { type: 'SagaStarted', state: bookingState('attempt', 'attempt', 'attempt') },
        { type: 'StepDispatched', step: 'flight', attempt: 1, effectId: `${id}/flight/action/1` },
        { type: 'TimerScheduled', purpose: 'stepTimeout', step: 'flight' },
        { type: 'StepDispatched', step: 'hotel', attempt: 1 },
        { type: 'TimerScheduled', purpose: 'stepTimeout', step: 'hotel' },
        { type: 'StepDispatched', step: 'car', attempt: 1 },
        { type: 'TimerScheduled', purpose: 'stepTimeout', step: 'car' },
      ],
      effects: [
        { type: 'dispatch', step: 'flight' },
        { type: 'schedule' },
        { type: 'dispatch', step: 'hotel' },
        { type: 'schedule' },
        { type: 'dispatch', step: 'car' },
        { type: 'schedule' },
      ],
    });
  });

  it('the group waits for every branch, then the next step runs with their replies', () => {
    const two = started.given(stepSucceeds('hotel', { ref: 'H1' }));
    two.when(stepSucceeds('flight', { ref: 'F1' })).then({
      events: [{ type: 'StepSucceeded', step: 'flight', state: bookingState('done', 'done', 'attempt') }],
      effects: [{ type: 'cancel' }],
    });
    two.given(stepSucceeds('flight', { ref: 'F1' })).when(stepSucceeds('car', { ref: 'C1' })).then({
      events: [
        { type: 'StepSucceeded', step: 'car' },
        { type: 'StepDispatched', step: 'charge', attempt: 1, command: { tripId: 't-1', amountCents: 90_000, flight: 'F1' }, state: { charge: 'attempt' } },
        { type: 'TimerScheduled', purpose: 'stepTimeout', step: 'charge' },
      ],
      effects: [{ type: 'dispatch', step: 'charge' }, { type: 'schedule' }, { type: 'cancel' }],
    });
  });

  it('a branch retried within its budget still lets the group complete', () => {
    const booked = started.given(
      stepFails('car', 'Unavailable'),
      stepSucceeds('flight', { ref: 'F1' }),
      stepSucceeds('hotel', { ref: 'H1' }),
      timerFires('stepRetry', 'car'),
      stepSucceeds('car', { ref: 'C2' }),
    );
    expect(booked.state?.snapshot.value).toEqual({ charge: 'attempt' });
    booked.when(stepSucceeds('charge', { ref: 'P1' })).then({
      events: [{ type: 'StepSucceeded', step: 'charge' }, { type: 'SagaCompleted', status: 'completed' }],
    });
  });

  it('the step after the group failing compensates every branch, newest first', () => {
    const booked = started.given(stepSucceeds('car', { ref: 'C1' }), stepSucceeds('flight', { ref: 'F1' }), stepSucceeds('hotel', { ref: 'H1' }));
    booked.when(stepFails('charge', 'CardDeclined')).then({
      events: [{ type: 'StepFailed', step: 'charge' }, { type: 'CompensationDispatched', step: 'hotel', command: { ref: 'H1' } }, { type: 'TimerScheduled' }],
    });
    const flightUndone = booked.given(stepFails('charge', 'CardDeclined'), compensationSucceeds('hotel'));
    expect(flightUndone.history.at(-2)).toMatchObject({ type: 'CompensationDispatched', step: 'flight', command: { ref: 'F1' } });
    flightUndone.given(compensationSucceeds('flight')).when(compensationSucceeds('car')).then({
      events: [{ type: 'CompensationSucceeded', step: 'car' }, { type: 'SagaCompensated', failure: { step: 'charge', code: 'CardDeclined' } }],
    });
  });
});

describe('parallel group, one branch fails for good', () => {
  const flightBooked = started.given(stepSucceeds('flight', { ref: 'F1' }));

  it('nothing is compensated while another branch is still in flight', () => {
    flightBooked.when(stepFails('hotel', 'SoldOut')).then({
      events: [{ type: 'StepFailed', step: 'hotel', error: { retryable: false }, state: bookingState('done', 'failed', 'attempt'), status: 'running' }],
      effects: [{ type: 'cancel' }],
    });
  });

  it('when the in-flight branch finishes, the finished branches are compensated newest first, the failed one not', () => {
    const failed = flightBooked.given(stepFails('hotel', 'SoldOut'));
    failed.when(stepSucceeds('car', { ref: 'C1' })).then({
      events: [
        { type: 'StepSucceeded', step: 'car', status: 'compensating' },
        { type: 'CompensationDispatched', step: 'car', command: { tripId: 't-1', ref: 'C1' } },
        { type: 'TimerScheduled', purpose: 'compensationTimeout', step: 'car' },
      ],
      effects: [{ type: 'dispatch', operation: 'cancelCar' }, { type: 'schedule' }, { type: 'cancel' }],
    });
    const cancelling = failed.given(stepSucceeds('car', { ref: 'C1' }), compensationSucceeds('car'));
    expect(cancelling.history.at(-2)).toMatchObject({ type: 'CompensationDispatched', step: 'flight', command: { ref: 'F1' } });
    const done = cancelling.when(compensationSucceeds('flight')).then({
      events: [{ type: 'CompensationSucceeded', step: 'flight' }, { type: 'SagaCompensated', failure: { step: 'hotel', code: 'SoldOut' } }],
      status: 'compensated',
    });
    const compensated = done.history.filter((event) => event.type === 'CompensationDispatched').map((event) => (event as { step: string }).step);
    expect(compensated).toEqual(['car', 'flight']);
    expect(done.history.some((event) => event.type === 'StepDispatched' && event.step === 'charge')).toBe(false);
  });

  it('an in-flight branch that fails retryably is not retried once the group failed', () => {
    flightBooked.given(stepFails('hotel', 'SoldOut')).when(stepFails('car', 'Unavailable')).then({
      events: [{ type: 'StepFailed', step: 'car', error: { retryable: true } }, { type: 'CompensationDispatched', step: 'flight' }, { type: 'TimerScheduled' }],
    });
  });

  it('an in-flight branch timing out after the group failed is compensated without a reply', () => {
    flightBooked.given(stepFails('hotel', 'SoldOut')).when(timerFires('stepTimeout', 'car')).then({
      events: [{ type: 'StepTimedOut', step: 'car' }, { type: 'CompensationDispatched', step: 'car', command: { ref: null } }, { type: 'TimerScheduled' }],
    });
  });

  it('a branch waiting for its retry gives up when the timer fires', () => {
    const waiting = flightBooked.given(stepFails('car', 'Unavailable'), stepFails('hotel', 'SoldOut'));
    expect(waiting.state?.snapshot.value).toEqual(bookingState('done', 'failed', 'backoff'));
    waiting.when(timerFires('stepRetry', 'car')).then({
      events: [{ type: 'TimerFired' }, { type: 'CompensationDispatched', step: 'flight' }, { type: 'TimerScheduled' }],
    });
  });

  it('abort compensates the in-flight branches and the finished ones, and cancels their timers', () => {
    const outcome = flightBooked.given(stepFails('car', 'Unavailable')).when(operator('abort')).then({
      events: [{ type: 'OperatorIntervened', action: 'abort' }, { type: 'CompensationDispatched', step: 'hotel', command: { ref: null } }, { type: 'TimerScheduled' }],
      effects: [{ type: 'dispatch' }, { type: 'schedule' }, { type: 'cancel' }, { type: 'cancel' }],
    });
    expect(contextOf(outcome.state ?? expect.unreachable()).toCompensate).toEqual(['flight', 'hotel']);
    expect(outcome.state?.timers.size).toBe(1);
  });
});

describe('hand-written machine with a branch on the input', () => {
  const dispatchStart = (express: boolean): SagaInput => ({ type: 'start', saga: 'parcel-dispatch', instanceId: `parcel-${express}`, input: { parcelId: 'p-1', express } });

  it('express parcels go by courier', () => {
    sagaSpec(registry).given(dispatchStart(true)).when(stepSucceeds('pack', { boxId: 'b-1' })).then({
      events: [{ type: 'StepSucceeded', step: 'pack' }, { type: 'StepDispatched', step: 'courier', state: { courier: 'attempt' } }, { type: 'TimerScheduled', step: 'courier' }],
    });
  });

  it('standard parcels go by post, and complete', () => {
    const posting = sagaSpec(registry).given(dispatchStart(false), stepSucceeds('pack', { boxId: 'b-1' }));
    expect(posting.state?.snapshot.value).toEqual({ post: 'attempt' });
    posting.when(stepSucceeds('post', { trackingId: 'tr-1' })).then({ events: [{ type: 'StepSucceeded' }, { type: 'SagaCompleted' }], status: 'completed' });
  });

  it('a failure on the branch compensates the shared step', () => {
    sagaSpec(registry)
      .given(dispatchStart(false), stepSucceeds('pack', { boxId: 'b-1' }))
      .when(stepFails('post', 'Closed'))
      .then({
        events: [{ type: 'StepFailed', step: 'post' }, { type: 'CompensationDispatched', step: 'pack', command: { boxId: 'b-1' } }, { type: 'TimerScheduled' }],
        status: 'compensating',
      });
  });
});
