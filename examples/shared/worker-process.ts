/**
 * The command line shared by the example worker processes:
 *   --service NAME --db PATH [--namespace NS] [--nats URL]
 *   [--ack-wait-ms N] [--heartbeat-ms N] [--latency-ms N]   (redelivery, heartbeat and a slow service, for tests)
 *   [--metrics-port N [--metrics-host ADDRESS]]   (Prometheus metrics on /metrics, with /healthz and /readyz)
 * Traces its commands over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set (service sagaflow-worker-<service>).
 * Opens the service's database, connects to NATS (`NATS_URL` and credentials from the environment,
 * `--nats` wins) on the namespace of `--namespace` or else `SAGAFLOW_NAMESPACE` (as `sagaflow run`
 * does), registers the service's handlers, prints `worker ready` once consuming, and stops cleanly
 * on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { StepFailure, type DispatchEffect, type SagaDefinition } from '@sagaflow/core';
import { startTracingFromEnv } from '@sagaflow/cli';
import { connectNats, natsSettingsFromEnv } from '@sagaflow/nats';
import { createLogger, createMetricsRegistry, createWorker, serveMetrics, type Worker, type WorkerContext } from '@sagaflow/worker';
import type { GuardedServices } from './guarded-services.js';
import { stopRequested } from './stop-signal.js';

/** Runs a command's operation behind the service's barrier: its reply, or its failure thrown back as a `StepFailure`. */
export type Guarded = <R>(command: unknown, ctx: WorkerContext) => Promise<R>;

/** What one example worker process serves. */
export interface WorkerProcess<I, S extends string> {
  readonly saga: SagaDefinition<I>;
  readonly services: readonly S[];
  /** Opens the database of one service. */
  readonly open: (db: string, service: S) => GuardedServices;
  /** Registers the handlers of one service's operations. */
  readonly register: (worker: Worker<I>, service: S, guarded: Guarded) => void;
}

/** Parses the command line and runs the worker until SIGINT or SIGTERM. */
export async function runWorkerProcess<I, S extends string>(spec: WorkerProcess<I, S>): Promise<void> {
  const { values } = parseArgs({
    options: {
      service: { type: 'string' },
      db: { type: 'string' },
      namespace: { type: 'string' },
      nats: { type: 'string' },
      'ack-wait-ms': { type: 'string' },
      'heartbeat-ms': { type: 'string' },
      'latency-ms': { type: 'string' },
      'metrics-port': { type: 'string' },
      'metrics-host': { type: 'string' },
    },
  });
  const service = spec.services.find((name) => name === values.service);
  if (service === undefined || values.db === undefined) {
    process.stderr.write(`usage: worker.ts --service ${spec.services.join('|')} --db PATH [--namespace NS] [--nats URL]\n`);
    process.exit(2);
  }
  const number = (name: 'ack-wait-ms' | 'heartbeat-ms' | 'latency-ms' | 'metrics-port'): number | undefined => (values[name] === undefined ? undefined : Number(values[name]));
  const ackWaitMs = number('ack-wait-ms');
  const heartbeatMs = number('heartbeat-ms');
  const latencyMs = number('latency-ms') ?? 0;
  const metricsPort = number('metrics-port');
  if (metricsPort !== undefined && !(Number.isInteger(metricsPort) && metricsPort >= 0 && metricsPort <= 65_535)) {
    process.stderr.write(`--metrics-port takes a port number from 0 to 65535, not "${values['metrics-port'] ?? ''}"\n`);
    process.exit(2);
  }
  const registry = metricsPort === undefined ? undefined : createMetricsRegistry();

  const tracing = await startTracingFromEnv(`sagaflow-worker-${service}`);
  const logger = createLogger({ name: `sagaflow-worker-${service}` });
  const services = spec.open(values.db, service);
  const connection = await connectNats({ ...natsSettingsFromEnv(), ...(values.nats === undefined ? {} : { url: values.nats }), name: `${spec.saga.name}-${service}` });
  const namespace = values.namespace ?? (process.env.SAGAFLOW_NAMESPACE || undefined);
  const worker = createWorker({
    connection,
    saga: spec.saga,
    ...(namespace === undefined ? {} : { namespace }),
    ...(ackWaitMs === undefined ? {} : { consumer: { ackWaitMs } }),
    ...(heartbeatMs === undefined ? {} : { heartbeatMs }),
    ...(registry === undefined ? {} : { metrics: registry }),
    // JSON lines off a terminal, each about a command carrying its saga, instance, step, effect and trace.
    log: (message, fields) => logger.warn(message, fields),
  });
  let ready = false;
  const metrics =
    registry === undefined || metricsPort === undefined
      ? undefined
      : await serveMetrics({ registry, port: metricsPort, ...(values['metrics-host'] === undefined ? {} : { host: values['metrics-host'] }), notReady: () => (ready ? null : 'starting') });
  if (metrics !== undefined) process.stdout.write(`metrics on ${metrics.url}/metrics\n`);

  const guarded: Guarded = async <R>(command: unknown, ctx: WorkerContext): Promise<R> => {
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    const effect: DispatchEffect = { type: 'dispatch', ...ctx.effect, command };
    const outcome = services.run(effect);
    if (outcome.ok) return outcome.reply as R;
    throw new StepFailure(outcome.error.code, outcome.error.message, { retryable: outcome.error.retryable ?? true });
  };
  spec.register(worker, service, guarded);

  await worker.start();
  ready = true;
  process.stdout.write('worker ready\n');
  await stopRequested();
  ready = false;
  await worker.stop();
  await metrics?.close();
  await tracing?.shutdown();
  await connection.drain();
  services.close();
}
