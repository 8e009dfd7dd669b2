/**
 * A worker process for one of the order saga's services, over NATS JetStream.
 * Usage: worker.ts --service inventory|payment|shipping --db PATH [--namespace NS] [--nats URL]
 *        [--ack-wait-ms N] [--heartbeat-ms N] [--latency-ms N]   (redelivery, heartbeat and a slow service, for tests)
 * Prints `worker ready` once consuming; stops cleanly on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { StepFailure, type DispatchEffect, type ReplyOutcome } from '@sagaflow/core';
import { connectNats, natsSettingsFromEnv } from '@sagaflow/nats';
import { createWorker, type WorkerContext } from '@sagaflow/worker';
import orderFulfilment, { chargePayment, createShipment, reserveInventory } from '../../sagas/order-fulfilment.saga.js';
import { openOrderServices, serviceOperations } from './order-services.js';

const { values } = parseArgs({
  options: {
    service: { type: 'string' },
    db: { type: 'string' },
    namespace: { type: 'string' },
    nats: { type: 'string' },
    'ack-wait-ms': { type: 'string' },
    'heartbeat-ms': { type: 'string' },
    'latency-ms': { type: 'string' },
  },
});
const service = values.service as keyof typeof serviceOperations | undefined;
if (service === undefined || !(service in serviceOperations) || service === 'all' || values.db === undefined) {
  process.stderr.write('usage: worker.ts --service inventory|payment|shipping --db PATH [--namespace NS] [--nats URL]\n');
  process.exit(2);
}

const services = openOrderServices(values.db, serviceOperations[service]);
const connection = await connectNats({ ...natsSettingsFromEnv(), ...(values.nats === undefined ? {} : { url: values.nats }), name: `order-${service}` });
const number = (name: 'ack-wait-ms' | 'heartbeat-ms' | 'latency-ms'): number | undefined => (values[name] === undefined ? undefined : Number(values[name]));
const ackWaitMs = number('ack-wait-ms');
const heartbeatMs = number('heartbeat-ms');
const latencyMs = number('latency-ms') ?? 0;
const worker = createWorker({
  connection,
  saga: orderFulfilment,
  ...(values.namespace === undefined ? {} : { namespace: values.namespace }),
  ...(ackWaitMs === undefined ? {} : { consumer: { ackWaitMs } }),
  ...(heartbeatMs === undefined ? {} : { heartbeatMs }),
});

/** Runs the operation behind the barrier and turns its outcome back into a reply or a thrown failure. */
const guarded = async (ctx: WorkerContext, command: unknown): Promise<unknown> => {
  if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
  const effect: DispatchEffect = { type: "dispatch", ...ctx.effect, command };
  const outcome: ReplyOutcome = services.run(effect);
  if (outcome.ok) return outcome.reply;
  throw new StepFailure(outcome.error.code, outcome.error.message, { retryable: outcome.error.retryable ?? true });
};

switch (service) {
  case 'inventory':
    worker.step(reserveInventory, async (command, ctx) => (await guarded(ctx, command)) as { reservationId: string });
    worker.compensation(reserveInventory, async (command, ctx) => void (await guarded(ctx, command)));
    break;
  case 'payment':
    worker.step(chargePayment, async (command, ctx) => (await guarded(ctx, command)) as { paymentId: string });
    worker.compensation(chargePayment, async (command, ctx) => void (await guarded(ctx, command)));
    break;
  case 'shipping':
    worker.step(createShipment, async (command, ctx) => (await guarded(ctx, command)) as { trackingNumber: string });
    break;
}

await worker.start();
process.stdout.write('worker ready\n');
await new Promise<void>((resolve) => {
  process.once('SIGINT', resolve);
  process.once('SIGTERM', resolve);
});
await worker.stop();
await connection.drain();
services.close();
