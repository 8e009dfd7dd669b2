import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { openEventStoreDbStore } from '@sagaflow/store-eventstoredb';
import { OrderCluster } from '../support/order-cluster.js';
import { expectOrdersSettledOnce } from '../support/order-invariants.js';
import { startEsdbTestServer, type EsdbTestServer } from './esdb-test-server.js';

let cluster: OrderCluster | null = null;
let server: EsdbTestServer | null = null;
afterEach(async () => {
  await cluster?.stop();
  cluster = null;
  await server?.close();
  server = null;
});

describe('order sagas on EventStoreDB (through the wire-compatible test double)', () => {
  it('the engine runs with --store esdb://…: 200 sagas end as scheduled, every effect once, streams replay', async () => {
    server = await startEsdbTestServer();
    cluster = new OrderCluster(inject('natsUrl'));
    const store = await openEventStoreDbStore(server.url, { listingPath: join(cluster.dir, 'test-listing.db') });
    cluster.useStore(`${server.url}&listing=${join(cluster.dir, 'engine-listing.db')}`, store);
    await cluster.startAll();
    await cluster.startOrders(0, 200);
    expect(Object.fromEntries(await cluster.settled(200))).toEqual({ completed: 160, compensated: 40 });
    await expectOrdersSettledOnce(store, cluster.databases(), 200);
    expect(server.log.filter((event) => event.streamName.startsWith('sagaflow_instance-order-')).length).toBeGreaterThan(200 * 8);
  });
});
