/**
 * The benchmark's worker process: serves all 5 operations of the bench-order saga with the
 * standard in-memory step bodies. Usage: worker.ts --nats URL --namespace NS [--concurrency N] [--prefetch N] [--metrics-port N]
 * (Prometheus metrics, logged as `metrics on URL`); traces over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set.
 * Prints `worker ready` once consuming; stops on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { StepFailure } from '@sagaflow/core';
import { connectNats } from '@sagaflow/nats';
import { startTracingFromEnv } from '@sagaflow/cli';
import { createMetricsRegistry, createWorker, serveMetrics } from '@sagaflow/worker';
import benchOrder, { chargePayment, createShipment, reserveInventory } from './sagas/bench-order.saga.js';
import * as steps from './steps.js';
import { serveUntilStopped } from '../examples/shared/stop-signal.js';

const { values } = parseArgs({ options: { nats: { type: 'string' }, namespace: { type: 'string' }, concurrency: { type: 'string' }, prefetch: { type: 'string' }, 'metrics-port': { type: 'string' } } });
const tracing = await startTracingFromEnv('sagaflow-bench-worker');
const registry = values['metrics-port'] === undefined ? undefined : createMetricsRegistry();
const connection = await connectNats({ url: values.nats ?? 'nats://127.0.0.1:4222', name: 'bench-worker' });
const worker = createWorker({
  connection,
  saga: benchOrder,
  ...(values.namespace === undefined ? {} : { namespace: values.namespace }),
  ...(values.concurrency === undefined ? {} : { concurrency: Number(values.concurrency) }),
  ...(values.prefetch === undefined ? {} : { prefetch: Number(values.prefetch) }),
  ...(registry === undefined ? {} : { metrics: registry }),
});
const metrics = registry === undefined ? undefined : await serveMetrics({ registry, port: Number(values['metrics-port']) });
if (metrics !== undefined) process.stdout.write(`metrics on ${metrics.url}/metrics\n`);
worker
  .step(reserveInventory, (order) => steps.reserveInventory(order))
  .step(chargePayment, (order) => steps.chargePayment(order))
  .step(createShipment, (order) => {
    try {
      return steps.createShipment(order);
    } catch (error) {
      if (error instanceof steps.ShipmentError) throw new StepFailure('ShipmentError', error.message, { retryable: false });
      throw error;
    }
  })
  .compensation(reserveInventory, ({ order, reservation }) => {
    if (reservation !== null) steps.releaseInventory(order, reservation);
  })
  .compensation(chargePayment, ({ order, payment }) => {
    if (payment !== null) steps.refundPayment(order, payment);
  });
await serveUntilStopped(worker, () => connection.drain(), async () => metrics?.close(), async () => tracing?.shutdown());
