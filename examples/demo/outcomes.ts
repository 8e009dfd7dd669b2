import * as E from 'fp-ts/lib/Either.js';
import { decodeStream, isTerminal, type EventStore, type SagaEvent, type SagaStatus } from '@sagaflow/core';
import { readLedger } from '../shared/guarded-services.js';
import type { ExampleSaga } from './deployment.js';

/** How a run of an example's instances `0 … count-1` ended, read back from the event log and the services' databases. */
export interface Outcomes {
  /** Instances by final status (`missing`: never started). */
  readonly counts: ReadonlyMap<SagaStatus | 'missing', number>;
  /** Start → terminal of every finished instance, from its events, in ms, ascending. */
  readonly latencies: readonly number[];
  /** Business changes the services applied. */
  readonly applied: number;
  /** Business changes applied more than once (0: the barrier held). */
  readonly appliedTwice: number;
  /** Deliveries of a command (one attempt of an effect) seen before: JetStream redeliveries, which the barrier answered. */
  readonly duplicates: number;
  /** Instances that did not end as the failure schedule says, or whose effects were not applied exactly once. */
  readonly problems: readonly string[];
}

/**
 * Reads the outcome of a run and checks it against the example's failure schedule: each instance's
 * status, and the operations its services applied, each exactly once. `inspect` adds checks of an
 * instance's events (a problem, or null).
 */
export async function readOutcomes(
  example: ExampleSaga,
  store: EventStore,
  databases: readonly string[],
  count: number,
  inspect: (n: number, events: readonly SagaEvent[]) => string | null = () => null,
): Promise<Outcomes> {
  const ledger = readLedger(databases);
  const twice = [...ledger.applied].filter(([, times]) => times !== 1);
  const problems = twice.map(([key, times]) => `${key}: applied ${times} times`);
  const counts = new Map<SagaStatus | 'missing', number>();
  const latencies: number[] = [];
  let applied = 0;
  for (const times of ledger.applied.values()) applied += times;
  for (let n = 0; n < count; n++) {
    const id = example.instanceId(n);
    const expected = example.expected(n);
    const status = (await store.getInstance(id))?.status ?? 'missing';
    counts.set(status, (counts.get(status) ?? 0) + 1);
    if (status !== expected.status) problems.push(`${id}: ${status} instead of ${expected.status}`);
    const operations = [...(ledger.operations.get(id) ?? [])].sort().join(',');
    const wanted = [...expected.operations].sort().join(',');
    if (operations !== wanted) problems.push(`${id}: applied [${operations}] instead of [${wanted}]`);

    const events = decodeStream(await store.readStream(id));
    if (E.isLeft(events)) {
      problems.push(`${id}: ${events.left.message}`);
      continue;
    }
    const first = events.right[0];
    const last = events.right.at(-1);
    if (first !== undefined && last !== undefined && isTerminal(last.status)) latencies.push(last.at - first.at);
    const problem = inspect(n, events.right);
    if (problem !== null) problems.push(`${id}: ${problem}`);
  }
  latencies.sort((a, b) => a - b);
  return { counts, latencies, applied, appliedTwice: twice.length, duplicates: ledger.duplicates, problems };
}

/** The `p`th percentile (nearest rank) of ascending values; 0 for none. */
export const percentile = (sorted: readonly number[], p: number): number => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
