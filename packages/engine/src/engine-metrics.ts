import { effectId, type InstanceState, type SagaEvent, type SagaStatus } from '@sagaflow/core';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { latencyBuckets } from '@sagaflow/telemetry';
import type { EngineObserver } from './engine-observer.js';

/** Dispatch times kept for step latency: bounded, in case instances leave without a reply (a partition handed over). */
const maxTracked = 200_000;

/** What the in-flight and gauge metrics read when scraped. */
export interface EngineGauges {
  /** The unfinished instances the engine holds, each with its saga and status. */
  instances(): Iterable<InstanceState>;
  /** Durable timers armed now. */
  timersArmed(): number;
  /** Partitions this engine holds (its share of the namespace). */
  partitionsHeld?(): number;
}

/**
 * The engine's Prometheus metrics (names in docs/observability.md), registered in `registry`: counters
 * and histograms fed from the events of each committed input, gauges read from the engine when
 * scraped. Labels are the saga, step, kind, status and error code: bounded by the definitions and the
 * workers' codes, never an instance or effect id.
 */
export class EngineMetrics implements EngineObserver {
  private readonly started: Counter<'saga'>;
  private readonly ended: Counter<'saga' | 'status'>;
  private readonly stuck: Counter<'saga'>;
  private readonly attempts: Counter<'saga' | 'step' | 'kind'>;
  private readonly retries: Counter<'saga' | 'step' | 'kind'>;
  private readonly timeouts: Counter<'saga' | 'step' | 'kind'>;
  private readonly failures: Counter<'saga' | 'step' | 'kind' | 'code'>;
  private readonly compensations: Counter<'saga' | 'step'>;
  private readonly deadLetters: Counter<'saga' | 'step' | 'kind'>;
  private readonly interventions: Counter<'saga' | 'action'>;
  private readonly conflicts: Counter;
  private readonly stepDuration: Histogram<'saga' | 'step' | 'kind' | 'outcome'>;
  private readonly sagaDuration: Histogram<'saga' | 'status'>;
  private readonly commitDuration: Histogram;
  private readonly appendsPerCommit: Histogram;
  /** When each awaited attempt was dispatched, by effect id. */
  private readonly dispatchedAt = new Map<string, number>();

  constructor(registry: Registry, gauges: () => EngineGauges | undefined) {
    const registers = [registry];
    this.started = new Counter({ name: 'sagaflow_instances_started_total', help: 'Saga instances created (started, scheduled or prepared)', labelNames: ['saga'], registers });
    this.ended = new Counter({ name: 'sagaflow_instances_ended_total', help: 'Saga instances that reached a final status', labelNames: ['saga', 'status'], registers });
    this.stuck = new Counter({ name: 'sagaflow_instances_stuck_total', help: 'Times an instance stopped for an operator (stuck)', labelNames: ['saga'], registers });
    this.attempts = new Counter({ name: 'sagaflow_step_attempts_total', help: 'Step and compensation attempts dispatched', labelNames: ['saga', 'step', 'kind'], registers });
    this.retries = new Counter({ name: 'sagaflow_step_retries_total', help: 'Attempts after the first (retries)', labelNames: ['saga', 'step', 'kind'], registers });
    this.timeouts = new Counter({ name: 'sagaflow_step_timeouts_total', help: 'Attempts that timed out', labelNames: ['saga', 'step', 'kind'], registers });
    this.failures = new Counter({ name: 'sagaflow_step_failures_total', help: 'Attempts that failed, by the error code the worker replied', labelNames: ['saga', 'step', 'kind', 'code'], registers });
    this.compensations = new Counter({ name: 'sagaflow_compensations_total', help: 'Compensations carried out (succeeded)', labelNames: ['saga', 'step'], registers });
    this.deadLetters = new Counter({ name: 'sagaflow_dead_letters_total', help: 'Commands or replies of an instance that went to the dead letters', labelNames: ['saga', 'step', 'kind'], registers });
    this.interventions = new Counter({ name: 'sagaflow_interventions_total', help: 'Operator interventions recorded', labelNames: ['saga', 'action'], registers });
    this.conflicts = new Counter({ name: 'sagaflow_store_append_conflicts_total', help: 'Appends refused for their expected revision (another writer was first)', registers });
    this.stepDuration = new Histogram({
      name: 'sagaflow_step_duration_seconds',
      help: 'From dispatch to the reply, per attempt',
      labelNames: ['saga', 'step', 'kind', 'outcome'],
      buckets: [...latencyBuckets],
      registers,
    });
    this.sagaDuration = new Histogram({ name: 'sagaflow_saga_duration_seconds', help: 'From start to final status', labelNames: ['saga', 'status'], buckets: [...latencyBuckets], registers });
    this.commitDuration = new Histogram({ name: 'sagaflow_store_commit_duration_seconds', help: 'Event store commits (a batch of appends)', buckets: [...latencyBuckets], registers });
    this.appendsPerCommit = new Histogram({ name: 'sagaflow_store_appends_per_commit', help: 'Appends (inputs of instances) per store commit', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512], registers });
    new Gauge({
      name: 'sagaflow_instances_in_flight',
      help: 'Unfinished instances this engine holds, by status',
      labelNames: ['saga', 'status'],
      registers,
      collect() {
        this.reset();
        const counts = new Map<string, { saga: string; status: SagaStatus; count: number }>();
        for (const state of gauges()?.instances() ?? []) {
          const key = `${state.definition.name}\u0000${state.status}`;
          const entry = counts.get(key);
          if (entry === undefined) counts.set(key, { saga: state.definition.name, status: state.status, count: 1 });
          else entry.count++;
        }
        for (const { saga, status, count } of counts.values()) this.set({ saga, status }, count);
      },
    });
    new Gauge({
      name: 'sagaflow_timers_armed',
      help: 'Durable timers armed in this engine',
      registers,
      collect() {
        this.set(gauges()?.timersArmed() ?? 0);
      },
    });
    new Gauge({
      name: 'sagaflow_partitions_held',
      help: "Partitions of the namespace this engine decides for",
      registers,
      collect() {
        this.set(gauges()?.partitionsHeld?.() ?? 0);
      },
    });
  }

  committed(_before: InstanceState | null, after: InstanceState, events: readonly SagaEvent[]): void {
    const saga = after.definition.name;
    for (const event of events) {
      switch (event.type) {
        case 'SagaStarted':
        case 'SagaPrepared':
          this.started.inc({ saga });
          break;
        case 'StepDispatched':
        case 'CompensationDispatched': {
          const kind = event.type === 'StepDispatched' ? 'action' : 'compensation';
          this.attempts.inc({ saga, step: event.step, kind });
          if (event.attempt > 1) this.retries.inc({ saga, step: event.step, kind });
          if (this.dispatchedAt.size >= maxTracked) this.dispatchedAt.delete(this.dispatchedAt.keys().next().value as string);
          this.dispatchedAt.set(event.effectId, event.at);
          break;
        }
        case 'StepSucceeded':
          this.replied(saga, event.step, 'action', event.effectId, event.at, 'succeeded');
          break;
        case 'CompensationSucceeded':
          this.compensations.inc({ saga, step: event.step });
          this.replied(saga, event.step, 'compensation', event.effectId, event.at, 'succeeded');
          break;
        case 'StepFailed':
        case 'CompensationFailed': {
          const kind = event.type === 'StepFailed' ? 'action' : 'compensation';
          this.failures.inc({ saga, step: event.step, kind, code: event.error.code });
          this.replied(saga, event.step, kind, event.effectId, event.at, 'failed');
          break;
        }
        case 'StepTimedOut':
        case 'CompensationTimedOut': {
          const kind = event.type === 'StepTimedOut' ? 'action' : 'compensation';
          this.timeouts.inc({ saga, step: event.step, kind });
          this.dispatchedAt.delete(effectId(after.instanceId, event.step, kind, event.attempt));
          break;
        }
        case 'EffectDeadLettered':
          this.deadLetters.inc({ saga, step: event.step, kind: event.kind });
          this.dispatchedAt.delete(event.effectId);
          break;
        case 'OperatorIntervened':
          this.interventions.inc({ saga, action: event.action });
          break;
        case 'SagaStuck':
          this.stuck.inc({ saga });
          break;
        case 'SagaCompleted':
        case 'SagaCompensated':
        case 'SagaCancelled': {
          const status = event.type === 'SagaCompleted' ? 'completed' : event.type === 'SagaCompensated' ? 'compensated' : 'cancelled';
          this.ended.inc({ saga, status });
          this.sagaDuration.observe({ saga, status }, Math.max(0, event.at - after.startedAt) / 1000);
          break;
        }
        default:
          break;
      }
    }
  }

  storeCommitted(seconds: number, appends: number): void {
    this.commitDuration.observe(seconds);
    this.appendsPerCommit.observe(appends);
  }

  appendConflict(): void {
    this.conflicts.inc();
  }

  private replied(saga: string, step: string, kind: 'action' | 'compensation', id: string, at: number, outcome: 'succeeded' | 'failed'): void {
    const sent = this.dispatchedAt.get(id);
    if (sent === undefined) return; // dispatched before this engine held the instance: no start to measure from
    this.dispatchedAt.delete(id);
    this.stepDuration.observe({ saga, step, kind, outcome }, Math.max(0, at - sent) / 1000);
  }
}
