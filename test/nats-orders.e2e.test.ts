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
    const announced = new Map<string, string[]>();
    const subjects: string[] = [];
    const nats = await cluster.nats();
    nats.subscribe(`${cluster.namespace}.evt.>`, {
      callback: (error, msg) => {
        if (error !== null) return;
        const summary = msg.json<InstanceSummary>();
        subjects.push(`${msg.subject} ${summary.saga} ${summary.status}`);
        announced.set(summary.instanceId, [...(announced.get(summary.instanceId) ?? []), summary.status]);
      },
    });
    await nats.flush();
    await cluster.startOrders(0, 500);
    const counts = await cluster.settled(500);
    expect(Object.fromEntries(counts)).toEqual({ completed: 400, compensated: 100 });
    await expectOrdersSettledOnce(cluster.eventStore(), services.map((service) => cluster!.dbOf(service)), 500);

    const finals = await cluster.eventStore().listInstances({ limit: 501 });
    const ended = (): number => [...announced.values()].filter((statuses) => ['completed', 'compensated'].includes(statuses.at(-1) ?? '')).length;
    await eventually(() => (ended() === 500 ? true : undefined), "the end of all 500 instances announced");
    for (const instance of finals) {
      const expected = instance.status === 'completed' ? ['running', 'completed'] : ['running', 'compensating', 'compensated'];
      expect({ instance: instance.instanceId, statuses: announced.get(instance.instanceId) }).toEqual({ instance: instance.instanceId, statuses: expected });
    }
    for (const line of subjects) {
      const [subject, saga, status] = line.split(' ');
      expect(subject).toBe(`${cluster.namespace}.evt.${saga}.${status}`);
    }
  });
});
