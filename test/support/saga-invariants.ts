import * as E from 'fp-ts/lib/Either.js';
import { expect } from 'vitest';
import { replay, type EventStore, type SagaEvent, type SagaRegistry } from '@sagaflow/core';
import type { ExampleSaga } from '../../examples/demo/deployment.js';
import { readOutcomes } from '../../examples/demo/outcomes.js';

/**
 * Checks a finished run of an example's instances `0 … count-1` against its failure schedule: each
 * ends as scheduled, every business effect and compensation was applied exactly once in the
 * services' databases (and only the scheduled ones), each stream has one terminal event and no
 * decision twice, and replays. `check` adds saga-specific checks of an instance's events.
 */
export async function expectSettledOnce(
  example: ExampleSaga,
  registry: SagaRegistry,
  store: EventStore,
  databases: readonly string[],
  count: number,
  check: (n: number, events: readonly SagaEvent[]) => string | null = () => null,
): Promise<{ duplicates: number }> {
  const outcomes = await readOutcomes(example, store, databases, count, (n, events) => {
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const event of events) {
      if (event.type !== 'StepDispatched' && event.type !== 'CompensationDispatched' && event.type !== 'StepSucceeded' && event.type !== 'CompensationSucceeded') continue;
      const signature = `${event.type}/${event.step}/${event.attempt}`;
      if (seen.has(signature)) problems.push(`${signature} recorded twice`);
      seen.add(signature);
    }
    const terminal = events.filter((event) => event.type === 'SagaCompleted' || event.type === 'SagaCompensated' || event.type === 'SagaCancelled').length;
    if (terminal !== 1) problems.push(`${terminal} terminal events`);
    const state = replay(registry, example.instanceId(n), events);
    if (E.isLeft(state)) problems.push(`replay failed: ${state.left.message}`);
    const problem = check(n, events);
    if (problem !== null) problems.push(problem);
    return problems.length === 0 ? null : problems.join('; ');
  });
  expect(outcomes.problems.slice(0, 20), `${outcomes.problems.length} problem(s)`).toEqual([]);
  return { duplicates: outcomes.duplicates };
}
