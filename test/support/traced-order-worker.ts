/**
 * A worker process for the whole order saga that makes spans of its own inside each handler, as a
 * team's code does (`trace.getTracer(...).startActiveSpan`), with tracing started from the
 * environment like the shipped processes. Order 3's shipment fails twice (retryable), order 5's
 * payment is declined. Usage: traced-order-worker.ts --namespace NS --nats URL
 */
import { parseArgs } from 'node:util';
import { trace } from '@opentelemetry/api';
import { startTracingFromEnv } from '@sagaflow/cli';
import { connectNats } from '@sagaflow/nats';
import { createWorker, StepFailure } from '@sagaflow/worker';
import orderFulfilment, { chargePayment, createShipment, reserveInventory } from '../../sagas/order-fulfilment.saga.js';
import { serveUntilStopped } from '../../examples/shared/stop-signal.js';

const { values } = parseArgs({ options: { namespace: { type: 'string' }, nats: { type: 'string' } } });
const tracing = await startTracingFromEnv('traced-order-worker');
const connection = await connectNats({ url: values.nats ?? 'nats://127.0.0.1:4222', name: 'traced-order-worker' });
const tracer = trace.getTracer('team-code');
/** The team's own work, in a span of its own. */
const mine = <T>(name: string, work: () => T): Promise<T> =>
  tracer.startActiveSpan(name, async (span) => {
    try {
      await new Promise((resolve) => setImmediate(resolve)); // the team's I/O: the span stays current across it
      return work();
    } finally {
      span.end();
    }
  });

const worker = createWorker({ connection, saga: orderFulfilment, namespace: values.namespace ?? 'sagaflow' })
  .step(reserveInventory, (command) => mine('reserve in warehouse', () => ({ reservationId: `res-${command.orderId}` })))
  .compensation(reserveInventory, () => mine('release in warehouse', () => undefined))
  .step(chargePayment, (command) =>
    mine('call card processor', () => {
      if (command.orderId === 'order-5') throw new StepFailure('PaymentDeclined', 'card declined');
      return { paymentId: `pay-${command.orderId}` };
    }),
  )
  .compensation(chargePayment, () => mine('refund card', () => undefined))
  .step(createShipment, (command, ctx) =>
    mine('book carrier', () => {
      if (command.orderId === 'order-3' && ctx.effect.attempt <= 2) throw new StepFailure('CarrierUnavailable', `carrier unavailable (attempt ${ctx.effect.attempt})`, { retryable: true });
      return { trackingNumber: `trk-${command.orderId}` };
    }),
  );
await serveUntilStopped(worker, () => connection.drain(), async () => tracing?.shutdown());
