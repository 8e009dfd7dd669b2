import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * A registry for one process's metrics, with prom-client's default process and Node.js metrics
 * (CPU, memory, handles, GC, `nodejs_eventloop_lag_*` for the event-loop delay) in it.
 */
export function createMetricsRegistry(options: { readonly defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  return registry;
}

/** Buckets of the latency histograms, in seconds: 1 ms to 5 minutes. */
export const latencyBuckets: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
