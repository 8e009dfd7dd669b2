import { percentile, type Outcomes } from './outcomes.js';

/** What the summary reports besides the outcomes. */
export interface RunFacts {
  readonly count: number;
  /** First start request → last instance finished. */
  readonly seconds: number;
  /** The store URL to give the CLI (`sqlite:<path>`). */
  readonly storeUrl: string;
  /** Instances worth a look: one compensated (declined payment), one whose shipment was retried. */
  readonly examples: { readonly compensated: string; readonly retried: string };
  /** What happened to the restarted worker, if anything. */
  readonly restart: string | null;
}

const n = (value: number): string => value.toLocaleString('en-US');

/** The closing summary: counts, throughput, latency, effects, and the CLI commands to look closer. */
export function formatSummary(outcomes: Outcomes, facts: RunFacts): string {
  const count = (status: string): number => outcomes.counts.get(status as never) ?? 0;
  const finished = count('completed') + count('compensated') + count('cancelled');
  const stuck = count('stuck');
  const unfinished = facts.count - finished - stuck;
  const ok = outcomes.problems.length === 0;
  const lines = [
    '',
    `Summary: ${n(facts.count)} order-fulfilment sagas`,
    `  completed     ${n(count('completed')).padStart(6)}   payment taken, shipped (shipments that failed twice were retried)`,
    `  compensated   ${n(count('compensated')).padStart(6)}   payment declined: the reserved stock was released`,
    `  stuck         ${n(stuck).padStart(6)}   waiting for an operator${unfinished > 0 ? `\n  unfinished    ${n(unfinished).padStart(6)}` : ''}`,
    `  throughput    ${n(Math.round(finished / facts.seconds)).padStart(6)}   sagas/s (${n(finished)} in ${facts.seconds.toFixed(1)} s, engine and workers as separate processes over NATS)`,
    `  latency       p50 ${n(percentile(outcomes.latencies, 50))} ms, p99 ${n(percentile(outcomes.latencies, 99))} ms (start → completed or compensated, from the events)`,
    `  effects       ${n(outcomes.applied)} business changes in the services' databases, ${
      outcomes.appliedTwice === 0 ? 'each applied once' : `${n(outcomes.appliedTwice)} of them MORE THAN ONCE`
    }, though ${n(outcomes.duplicates)} command${outcomes.duplicates === 1 ? ' was' : 's were'} delivered more than once`,
    ...(facts.restart === null ? [] : [`  restart       ${facts.restart}`]),
    '',
    ok
      ? 'Every saga ended as its injected failures dictate.'
      : `${n(outcomes.problems.length)} problem(s):\n${outcomes.problems
          .slice(0, 10)
          .map((problem) => `  ${problem}`)
          .join('\n')}`,
    '',
    'Look closer (the event log keeps every transition of every instance):',
    `  npx sagaflow list --store ${facts.storeUrl} --status compensated`,
    `  npx sagaflow show ${facts.examples.compensated} --store ${facts.storeUrl}      # a declined payment, compensated`,
    `  npx sagaflow show ${facts.examples.retried} --store ${facts.storeUrl}      # a shipment that failed twice, then succeeded`,
    `  npx sagaflow stats --store ${facts.storeUrl}`,
    '',
  ];
  return lines.join('\n');
}
