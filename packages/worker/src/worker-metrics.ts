import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { latencyBuckets } from '@sagaflow/telemetry';

/** What became of a command. */
export type CommandOutcome = 'succeeded' | 'failed' | 'dead_lettered' | 'handed_back';


/** The labels of a command: its saga, operation and kind (bounded by the definitions). */
export interface CommandLabels {
  readonly saga: string;
  readonly operation: string;
  readonly kind: 'action' | 'compensation';
}

/**
 * The worker's Prometheus metrics in one registry. Several workers of one process (one per saga) share
 * them: the metrics are registered once per registry and told apart by their `saga` label.
 */
export class WorkerMetrics {
  private readonly commands: Counter<'saga' | 'operation' | 'kind' | 'outcome'>;
  private readonly duration: Histogram<'saga' | 'operation' | 'kind'>;
  private readonly inProgress: Gauge<'saga' | 'operation'>;
  private readonly waiting: Gauge<'saga' | 'operation'>;

  private constructor(registry: Registry) {
    const registers = [registry];
    this.commands = new Counter({ name: 'sagaflow_worker_commands_total', help: 'Commands handled, by what became of them', labelNames: ['saga', 'operation', 'kind', 'outcome'], registers });
    this.duration = new Histogram({ name: 'sagaflow_worker_command_duration_seconds', help: 'From the start of its handling (after any wait for a free handler) to the stored reply', labelNames: ['saga', 'operation', 'kind'], buckets: [...latencyBuckets], registers });
    this.inProgress = new Gauge({ name: 'sagaflow_worker_commands_in_progress', help: 'Commands being handled now', labelNames: ['saga', 'operation'], registers });
    this.waiting = new Gauge({ name: 'sagaflow_worker_commands_held', help: 'Commands pulled ahead (prefetch) and waiting for a free handler now', labelNames: ['saga', 'operation'], registers });
  }

  private static readonly byRegistry = new WeakMap<Registry, WorkerMetrics>();

  /** The worker metrics of `registry`, registered on first use. */
  static of(registry: Registry): WorkerMetrics {
    let metrics = WorkerMetrics.byRegistry.get(registry);
    if (metrics === undefined) {
      metrics = new WorkerMetrics(registry);
      WorkerMetrics.byRegistry.set(registry, metrics);
    }
    return metrics;
  }

  /** A command began to wait for a free handler; the returned function records the end of its wait. */
  held(labels: CommandLabels): () => void {
    const { saga, operation } = labels;
    this.waiting.inc({ saga, operation });
    return () => this.waiting.dec({ saga, operation });
  }

  /** A command began; the returned function records its end. */
  began(labels: CommandLabels): (outcome: CommandOutcome) => void {
    const started = performance.now();
    const { saga, operation } = labels;
    this.inProgress.inc({ saga, operation });
    return (outcome) => {
      this.inProgress.dec({ saga, operation });
      this.commands.inc({ ...labels, outcome });
      if (outcome !== 'handed_back') this.duration.observe(labels, (performance.now() - started) / 1000);
    };
  }
}
