/** Whole order sagas: the real Engine (memory store, NATS transport) and workers over JetStream. */
import * as E from 'fp-ts/lib/Either.js';
import { afterEach, describe, expect, it } from 'vitest';
import { contextOf, createMemoryEventStore, createRegistry, StepFailure, type EventStore } from '@sagaflow/core';
import { Engine, type EngineLog } from '@sagaflow/engine';
import { createNatsTransport } from '@sagaflow/nats';
import type { Worker } from '@sagaflow/worker';
import orderFulfilment, { chargePayment, createShipment, reserveInventory, type OrderInput } from '../../../sagas/order-fulfilment.saga.js';
import { eventually, openHarness, type Harness } from './support/harness.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const quiet: EngineLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** An engine in the harness namespace, on its own connection. */
async function engineIn(h: Harness): Promise<{ engine: Engine; store: EventStore }> {
  const store = createMemoryEventStore();
  const transport = await createNatsTransport({ connection: await h.connect(), namespace: h.namespace, log: () => undefined });
  const engine = new Engine({ store, registry: createRegistry([orderFulfilment]), transport, log: quiet });
  cleanups.push(() => transport.close(), () => engine.stop());
  await engine.start();
  return { engine, store };
}

const order = (n: number): OrderInput => ({ orderId: `order-${n}`, customerId: 'c', items: [{ sku: 'sku', quantity: 1 }], amountCents: 1000 * n, address: 'Main St' });

/** Order services as workers; payments over 4000 cents are declined, shipments fail transiently twice. */
function orderServices(worker: Worker<OrderInput>, calls: string[]): void {
  const shipmentAttempts = new Map<string, number>();
  worker
    .step(reserveInventory, (command, ctx) => {
      calls.push(`reserve ${ctx.effect.instanceId}`);
      return { reservationId: `res-${command.orderId}` };
    })
    .compensation(reserveInventory, (command) => void calls.push(`release ${command.reservationId}`))
    .step(chargePayment, (command) => {
      if (command.amountCents > 4000) throw new StepFailure('PaymentDeclined', 'card declined');
      return { paymentId: `pay-${command.orderId}` };
    })
    .compensation(chargePayment, (command) => void calls.push(`refund ${command.paymentId}`))
    .step(createShipment, (command, ctx) => {
      const attempts = (shipmentAttempts.get(ctx.effect.key) ?? 0) + 1;
      shipmentAttempts.set(ctx.effect.key, attempts);
      calls.push(`ship ${ctx.effect.instanceId} attempt ${ctx.effect.attempt}`);
      if (attempts <= 2) throw new Error('carrier unavailable');
      return { trackingNumber: `track-${command.reservationId}` };
    });
}

const statusOf = (store: EventStore, instanceId: string, wanted: string): Promise<string> =>
  eventually(async () => ((await store.getInstance(instanceId))?.status === wanted ? wanted : undefined), `${instanceId} to be ${wanted}`, 20_000);

describe('whole sagas over JetStream', () => {
  it('completes an order through retries, and compensates a declined one', async () => {
    const h = await openHarness({ collectReplies: false });
    cleanups.push(() => h.close());
    const { engine, store } = await engineIn(h);
    const calls: string[] = [];
    const worker = await h.worker();
    orderServices(worker, calls);
    await worker.start();

    expect(E.isRight(await engine.startSaga('order-fulfilment', 'ok-1', order(1)))).toBe(true);
    expect(E.isRight(await engine.startSaga('order-fulfilment', 'declined-5', order(5)))).toBe(true);

    expect(await statusOf(store, 'ok-1', 'completed')).toBe('completed');
    expect(await statusOf(store, 'declined-5', 'compensated')).toBe('compensated');
    const state = await engine.inspect('ok-1');
    expect(E.isRight(state) && contextOf(state.right).replies).toMatchObject({
      reserveInventory: { reservationId: 'res-order-1' },
      chargePayment: { paymentId: 'pay-order-1' },
      createShipment: { trackingNumber: 'track-res-order-1' },
    });
    expect(calls.filter((c) => c.startsWith('ship ok-1'))).toEqual(['ship ok-1 attempt 1', 'ship ok-1 attempt 2', 'ship ok-1 attempt 3']);
    expect(calls).toContain('release res-order-5');
    expect(calls.some((c) => c.startsWith('refund'))).toBe(false);
  });
});
