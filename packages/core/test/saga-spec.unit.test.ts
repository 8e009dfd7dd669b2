/** The spec helper itself must fail loudly, or every test written with it proves nothing. */
import { describe, expect, it } from 'vitest';
import type { SagaInput } from '../src/decider.js';
import { createRegistry } from '../src/registry.js';
import { mismatches, operator, sagaSpec, stepSucceeds, timerFires } from './support/saga-spec.js';
import { orderFulfilment, orderInput } from './support/test-sagas.js';

const registry = createRegistry([orderFulfilment]);
const start: SagaInput = { type: 'start', saga: 'order-fulfilment', instanceId: 's-1', input: orderInput };
const started = sagaSpec(registry).given(start);

describe('mismatches', () => {
  it('matches partially on objects, exactly on array lengths and primitives', () => {
    expect(mismatches('x', { a: 1 }, { a: 1, b: 2 })).toEqual([]);
    expect(mismatches('x', { a: { b: [1, { c: 2 }] } }, { a: { b: [1, { c: 2, d: 3 }] } })).toEqual([]);
    expect(mismatches('x', { a: 1 }, { a: 2 })).toEqual(['x.a: expected 1, got 2']);
    expect(mismatches('x', [1], [1, 2])).toEqual(['x: expected 1 item(s), got 2: [1,2]']);
    expect(mismatches('x', { a: null }, { a: undefined })).toEqual(['x.a: expected null, got undefined']);
    expect(mismatches('x', { a: {} }, {})).toEqual(['x.a: expected an object, got undefined']);
  });
});

describe('then', () => {
  const when = started.when(stepSucceeds('reserveInventory', { reservationId: 'r' }));

  it('passes when events and effects match in order and number', () => {
    const outcome = when.then({ events: [{ type: 'StepSucceeded' }, { type: 'StepDispatched' }, { type: 'TimerScheduled' }], effects: [{}, {}, {}] });
    expect(outcome.history).toHaveLength(started.history.length + 3);
  });

  it('fails on a wrong field, a missing or an extra event, a wrong status', () => {
    expect(() => when.then({ events: [{ type: 'StepFailed' }, {}, {}] })).toThrow(/events\[0\]\.type: expected "StepFailed", got "StepSucceeded"/);
    expect(() => when.then({ events: [{ type: 'StepSucceeded' }] })).toThrow(/events: expected 1, got 3/);
    expect(() => when.then({ effects: [] })).toThrow(/effects: expected 0, got 3/);
    expect(() => when.then({ status: 'completed' })).toThrow(/status: expected "completed", got "running"/);
    expect(() => when.thenNothing()).toThrow(/events: expected 0, got 3/);
    expect(() => when.thenFails({ _tag: 'InvalidReply' })).toThrow(/expected an error/);
  });

  it('thenFails checks the error', () => {
    const refused = started.when(operator('retry'));
    expect(refused.thenFails({ _tag: 'InterventionRefused' })._tag).toBe('InterventionRefused');
    expect(() => refused.thenFails({ _tag: 'InvalidInput' })).toThrow(/error\._tag: expected "InvalidInput", got "InterventionRefused"/);
    expect(() => refused.then({})).toThrow(/expected a decision, got InterventionRefused/);
  });
});

describe('given', () => {
  it('recorded events fold to the same state as the inputs that produced them', () => {
    const byInputs = started.given(stepSucceeds('reserveInventory', { reservationId: 'r' }));
    const byEvents = sagaSpec(registry).given(...byInputs.history);
    expect(byEvents.state?.snapshot.value).toEqual(byInputs.state?.snapshot.value);
    expect(byEvents.state?.revision).toBe(byInputs.state?.revision);
  });

  it('a refused input or a history that does not fold throws at once', () => {
    expect(() => started.given(operator('retry'))).toThrow(/given: retry by operator was refused/);
    const [first, , ...rest] = started.history;
    expect(() => sagaSpec(registry).given(...[first, ...rest].filter((event) => event !== undefined)).state).toThrow(/does not fold/);
  });

  it('timers fire at their due time, and the clock only moves forward', () => {
    const fired = started.given({ clock: 100 }, timerFires('stepTimeout', 'reserveInventory'));
    expect(fired.clock).toBe(5_000);
    expect(fired.history.at(-2)).toMatchObject({ type: 'StepTimedOut', at: 5_000 });
  });
});
