import { afterEach, describe, expect, inject, it } from 'vitest';
import { OrderCluster, services } from './support/order-cluster.js';
import { expectOrdersSettledOnce } from './support/order-invariants.js';
import { startNatsServer, type NatsServer } from './support/nats-server.js';

const count = 300;
let cluster: OrderCluster | null = null;
let server: NatsServer | null = null;
/** The server that created the store directory: a restarted one reuses it and leaves its removal to this one. */
let storeOwner: NatsServer | null = null;
afterEach(async () => {
  await cluster?.stop();
  cluster = null;
  await server?.stop();
  server?.remove();
  storeOwner?.remove();
  server = null;
  storeOwner = null;
});

const databases = (c: OrderCluster): string[] => services.map((service) => c.dbOf(service));

describe('restarts in the middle of 300 order sagas over NATS', () => {
  it('kill -9 the engine: restarted, every saga finishes, nothing lost, nothing doubled', async () => {
    cluster = new OrderCluster(inject('natsUrl'));
    await cluster.startAll();
    await cluster.startOrders(0, count);
    await cluster.finishedAtLeast(30, count);
    await cluster.kill(cluster.engine);
    const before = await cluster.statuses(count);
    expect((before.get('running') ?? 0) + (before.get('compensating') ?? 0)).toBeGreaterThan(0);
    await cluster.startEngine();
    expect(Object.fromEntries(await cluster.settled(count))).toEqual({ completed: 240, compensated: 60 });
    await expectOrdersSettledOnce(cluster.eventStore(), databases(cluster), count);
  });

  it('kill -9 a worker: its commands wait, are redelivered to the restarted worker, and apply once', async () => {
    cluster = new OrderCluster(inject('natsUrl'));
    await cluster.startAll();
    await cluster.startOrders(0, count);
    await cluster.finishedAtLeast(30, count);
    await cluster.kill(cluster.workers.get('payment'));
    await new Promise((resolve) => setTimeout(resolve, 500));
    await cluster.startWorker('payment');
    expect(Object.fromEntries(await cluster.settled(count))).toEqual({ completed: 240, compensated: 60 });
    await expectOrdersSettledOnce(cluster.eventStore(), databases(cluster), count);
  });

  it('restart nats-server with its store directory: engine and workers reconnect and finish', async () => {
    server = await startNatsServer();
    storeOwner = server;
    cluster = new OrderCluster(server.url);
    await cluster.startAll();
    await cluster.startOrders(0, count);
    await cluster.finishedAtLeast(30, count);
    await server.stop();
    await new Promise((resolve) => setTimeout(resolve, 500));
    server = await startNatsServer({ port: server.port, storeDir: server.storeDir });
    expect(Object.fromEntries(await cluster.settled(count, 100_000))).toEqual({ completed: 240, compensated: 60 });
    await expectOrdersSettledOnce(cluster.eventStore(), databases(cluster), count);
  });
});
