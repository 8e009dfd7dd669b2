import { afterEach, describe, expect, inject, it } from 'vitest';
import type { InstanceSummary } from '@sagaflow/core';
import { eventually } from './support/eventually.js';
import { OrderCluster, services } from './support/order-cluster.js';
import { expectOrdersSettledOnce } from './support/order-invariants.js';

let cluster: OrderCluster | null = null;
afterEach(async () => {
  await cluster?.stop();
  cluster = null;
});

describe('order sagas over NATS JetStream, engine and workers in separate processes', () => {
  it('500 sagas (20% of payments declined, 10% of shipments failing twice) end as scheduled, every effect applied once; each status change is announced, in order', async () => {
    cluster = new OrderCluster(inject('natsUrl'));
    await cluster.startAll();
    // The engine announces each status change on <ns>.evt.<saga>.<status> (what `sagaflow watch` and the console follow).
    const received: { readonly subject: string; readonly summary: InstanceSummary }[] = [];
    const nats = await cluster.nats();
    nats.subscribe(`${cluster.namespace}.evt.>`, { callback: (error, msg) => void (error === null && received.push({ subject: msg.subject, summary: msg.json<InstanceSummary>() })) });
    await nats.flush();
    await cluster.startOrders(0, 500);
    const counts = await cluster.settled(500);
    expect(Object.fromEntries(counts)).toEqual({ completed: 400, compensated: 100 });
    await expectOrdersSettledOnce(cluster.eventStore(), services.map((service) => cluster!.dbOf(service)), 500);

    const statusesOf = (instanceId: string): string[] => received.filter(({ summary }) => summary.instanceId === instanceId).map(({ summary }) => summary.status);
    const ended = (): number => received.filter(({ summary }) => summary.status === 'completed' || summary.status === 'compensated').length;
    await eventually(() => (ended() === 500 ? true : undefined), 'the end of all 500 instances announced');
    for (const instance of await cluster.eventStore().listInstances({ limit: 501 })) {
      const expected = instance.status === 'completed' ? ['running', 'completed'] : ['running', 'compensating', 'compensated'];
      expect({ instance: instance.instanceId, statuses: statusesOf(instance.instanceId) }).toEqual({ instance: instance.instanceId, statuses: expected });
    }
    for (const { subject, summary } of received) expect(subject).toBe(`${cluster.namespace}.evt.${summary.saga}.${summary.status}`);
  });
});
