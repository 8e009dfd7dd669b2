import type { InstanceSummary, SagaEvent, SagaStatus } from '@sagaflow/core';
import { percentile } from './timeline.js';

/** Latency of one step (or compensation) over the instances read: dispatch → success, by the events' times. */
export interface StepStats {
  readonly step: string;
  readonly kind: 'action' | 'compensation';
  /** Attempts dispatched. */
  readonly attempts: number;
  /** Attempts after the first, over all instances. */
  readonly retries: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly timedOut: number;
  readonly deadLettered: number;
  readonly latencyMs: { readonly samples: number; readonly p50: number; readonly p95: number; readonly p99: number; readonly max: number } | null;
}

/** Figures for one saga (or for all of them). */
export interface SagaStats {
  readonly saga: string;
  readonly instances: number;
  readonly byStatus: Partial<Record<SagaStatus, number>>;
  /** Retries of forward steps / attempts of forward steps; `null` with no attempt. */
  readonly retryRate: number | null;
  /** Instances that compensated (or began to) / instances read; `null` with none whose events were read. */
  readonly compensationRate: number | null;
  readonly steps: readonly StepStats[];
}

interface StepAccumulator {
  attempts: number;
  retries: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  deadLettered: number;
  latencies: number[];
}

interface SagaAccumulator {
  instances: number;
  withEvents: number;
  compensated: number;
  byStatus: Partial<Record<SagaStatus, number>>;
  steps: Map<string, StepAccumulator>;
}

/** Accumulates instances (their listing rows and decoded events) into figures. */
export class StatsCollector {
  private readonly sagas = new Map<string, SagaAccumulator>();

  add(summary: InstanceSummary, events: readonly SagaEvent[] | null): void {
    const saga = this.saga(summary.saga);
    saga.instances += 1;
    saga.byStatus[summary.status] = (saga.byStatus[summary.status] ?? 0) + 1;
    if (events === null) return;
    saga.withEvents += 1;
    const dispatched = new Map<string, number>();
    let compensated = false;
    for (const event of events) {
      if (event.status === 'compensating' || event.status === 'compensated') compensated = true;
      switch (event.type) {
        case 'StepDispatched':
        case 'CompensationDispatched': {
          const kind = event.type === 'StepDispatched' ? 'action' : 'compensation';
          const step = this.step(saga, kind, event.step);
          step.attempts += 1;
          if (event.attempt > 1) step.retries += 1;
          dispatched.set(`${kind}/${event.step}/${event.attempt}`, event.at);
          break;
        }
        case 'StepSucceeded':
        case 'CompensationSucceeded': {
          const kind = event.type === 'StepSucceeded' ? 'action' : 'compensation';
          const step = this.step(saga, kind, event.step);
          step.succeeded += 1;
          const start = dispatched.get(`${kind}/${event.step}/${event.attempt}`);
          if (start !== undefined) step.latencies.push(event.at - start);
          break;
        }
        case 'StepFailed':
        case 'CompensationFailed':
          this.step(saga, event.type === 'StepFailed' ? 'action' : 'compensation', event.step).failed += 1;
          break;
        case 'StepTimedOut':
        case 'CompensationTimedOut':
          this.step(saga, event.type === 'StepTimedOut' ? 'action' : 'compensation', event.step).timedOut += 1;
          break;
        case 'EffectDeadLettered':
          this.step(saga, event.kind, event.step).deadLettered += 1;
          break;
        default:
          break;
      }
    }
    if (compensated) saga.compensated += 1;
  }

  /** Figures per saga (by name), and over all sagas. */
  result(): { sagas: SagaStats[]; total: Omit<SagaStats, 'saga' | 'steps'> } {
    const sagas = [...this.sagas.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, saga]) => finish(name, saga));
    const all: SagaAccumulator = { instances: 0, withEvents: 0, compensated: 0, byStatus: {}, steps: new Map() };
    for (const [name, saga] of this.sagas) {
      all.instances += saga.instances;
      all.withEvents += saga.withEvents;
      all.compensated += saga.compensated;
      for (const [status, count] of Object.entries(saga.byStatus) as [SagaStatus, number][]) all.byStatus[status] = (all.byStatus[status] ?? 0) + count;
      // Keys stay `<kind>/<step>`, made distinct per saga: only the totals of forward steps are used.
      for (const [key, step] of saga.steps) all.steps.set(`${key}@${name}`, step);
    }
    const { saga: _saga, steps: _steps, ...total } = finish('', all);
    return { sagas, total };
  }

  private saga(name: string): SagaAccumulator {
    let saga = this.sagas.get(name);
    if (saga === undefined) {
      saga = { instances: 0, withEvents: 0, compensated: 0, byStatus: {}, steps: new Map() };
      this.sagas.set(name, saga);
    }
    return saga;
  }

  private step(saga: SagaAccumulator, kind: 'action' | 'compensation', name: string): StepAccumulator {
    const key = `${kind}/${name}`;
    let step = saga.steps.get(key);
    if (step === undefined) {
      step = { attempts: 0, retries: 0, succeeded: 0, failed: 0, timedOut: 0, deadLettered: 0, latencies: [] };
      saga.steps.set(key, step);
    }
    return step;
  }
}

const ratio = (part: number, whole: number): number | null => (whole === 0 ? null : Math.round((part / whole) * 10_000) / 10_000);

function finish(name: string, saga: SagaAccumulator): SagaStats {
  const steps: StepStats[] = [...saga.steps.entries()].map(([key, step]) => {
    const [kind, ...rest] = key.split('/');
    const sorted = [...step.latencies].sort((a, b) => a - b);
    return {
      step: rest.join('/'),
      kind: kind === 'compensation' ? 'compensation' : 'action',
      attempts: step.attempts,
      retries: step.retries,
      succeeded: step.succeeded,
      failed: step.failed,
      timedOut: step.timedOut,
      deadLettered: step.deadLettered,
      latencyMs:
        sorted.length === 0
          ? null
          : { samples: sorted.length, p50: percentile(sorted, 50) ?? 0, p95: percentile(sorted, 95) ?? 0, p99: percentile(sorted, 99) ?? 0, max: sorted.at(-1) ?? 0 },
    };
  });
  const forward = steps.filter((step) => step.kind === 'action');
  return {
    saga: name,
    instances: saga.instances,
    byStatus: saga.byStatus,
    retryRate: ratio(
      forward.reduce((sum, step) => sum + step.retries, 0),
      forward.reduce((sum, step) => sum + step.attempts, 0),
    ),
    compensationRate: ratio(saga.compensated, saga.withEvents),
    steps,
  };
}
