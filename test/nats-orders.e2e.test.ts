import { afterEach, describe, expect, inject, it } from 'vitest';
import { OrderCluster, services } from './support/order-cluster.js';
import { expectOrdersSettledOnce } from './support/order-invariants.js';

let cluster: OrderCluster | null = null;
afterEach(async () => {
  await cluster?.stop();
  cluster = null;
});

describe('order sagas over NATS JetStream, engine and workers in separate processes', () => {
  it('500 sagas (20% of payments declined, 10% of shipments failing twice) end as scheduled, every effect applied once', async () => {
    cluster = new OrderCluster(inject('natsUrl'));
    await cluster.startAll();
    await cluster.startOrders(0, 500);
    const counts = await cluster.settled(500);
    expect(Object.fromEntries(counts)).toEqual({ completed: 400, compensated: 100 });
    await expectOrdersSettledOnce(cluster.eventStore(), services.map((service) => cluster!.dbOf(service)), 500);
  });
});
