/**
 * Random failure schedules: every attempt of every step succeeds, fails (retryably, for good, with
 * a code the step classifies as non-retryable) or times out; every compensation fails a random
 * number of times, sometimes past its budget; an operator sometimes aborts, and retries or skips
 * a stuck compensation. Whatever happens, the run keeps the failure semantics (see `checkRun`).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AnySagaDefinition } from '../src/saga-definition.js';
import { createRegistry } from '../src/registry.js';
import { checkRun, driveSchedule, type AttemptOutcome, type CheckOptions, type FailureSchedule } from './support/schedule-driver.js';
import { orderFulfilment, orderInput, tripBooking, tripInput } from './support/test-sagas.js';

const registry = createRegistry([orderFulfilment, tripBooking]);

const attemptOutcome: fc.Arbitrary<AttemptOutcome> = fc.oneof(
  { arbitrary: fc.constant('ok' as const), weight: 5 },
  { arbitrary: fc.constant('retryable' as const), weight: 3 },
  { arbitrary: fc.constant('timeout' as const), weight: 2 },
  { arbitrary: fc.constant('fatal' as const), weight: 1 },
  { arbitrary: fc.constant('classified' as const), weight: 1 },
);

/** A schedule for the steps of a definition; compensation failures sometimes exceed the budget. */
function schedule(definition: AnySagaDefinition): fc.Arbitrary<FailureSchedule> {
  const steps = [...definition.steps.values()];
  const compensations = steps.filter((step) => step.compensation !== undefined);
  return fc.record({
    steps: fc.record(Object.fromEntries(steps.map((step) => [step.name, fc.array(attemptOutcome, { maxLength: step.retryPolicy.maxAttempts })]))),
    compensations: fc.record(
      Object.fromEntries(
        compensations.map((step) => {
          const budget = step.compensationRetryPolicy.maxAttempts;
          return [
            step.name,
            fc.record({
              failures: fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, { arbitrary: fc.integer({ min: 1, max: 2 * budget + 1 }), weight: 2 }),
              timeouts: fc.array(fc.boolean(), { maxLength: 2 * budget + 1 }),
            }),
          ];
        }),
      ),
    ),
    whenStuck: fc.constantFrom('leave' as const, 'retry' as const, 'skip' as const),
    picks: fc.array(fc.nat({ max: 5 }), { minLength: 1, maxLength: 8 }),
    abortAfter: fc.oneof({ arbitrary: fc.constant(null), weight: 3 }, { arbitrary: fc.integer({ min: 1, max: 12 }), weight: 1 }),
  });
}

const cases: readonly { definition: AnySagaDefinition; input: unknown; reply: (step: string, attempt: number) => unknown; options: CheckOptions }[] = [
  {
    definition: orderFulfilment,
    input: orderInput,
    reply: (step, attempt) =>
      step === 'reserveInventory' ? { reservationId: `res-${attempt}` } : step === 'chargePayment' ? { paymentId: `pay-${attempt}` } : { trackingNumber: `trk-${attempt}` },
    options: { replyField: { reserveInventory: 'reservationId', chargePayment: 'paymentId' } },
  },
  {
    definition: tripBooking,
    input: tripInput,
    reply: (step, attempt) => ({ ref: `${step}-${attempt}` }),
    options: { replyField: { flight: 'ref', hotel: 'ref', car: 'ref', charge: 'ref' } },
  },
];

describe.each(cases)('random failure schedules: $definition.name', ({ definition, input, reply, options }) => {
  it('end completed, compensated or stuck, compensate exactly what ran newest first, and replay identically', () => {
    const ends = new Map<string, number>();
    fc.assert(
      fc.property(schedule(definition), (plan) => {
        const run = driveSchedule(registry, { saga: definition.name, instanceId: 'prop-1', input }, plan, reply);
        ends.set(run.state.status, (ends.get(run.state.status) ?? 0) + 1);
        expect(checkRun(registry, run, options)).toEqual([]);
      }),
      { numRuns: 200 },
    );
    // The generator reaches every end.
    expect([...ends.keys()].sort()).toEqual(['compensated', 'completed', 'stuck']);
  });
});
