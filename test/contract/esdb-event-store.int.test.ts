import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventStore } from '@sagaflow/core';
import { openEventStoreDbStore } from '@sagaflow/store-eventstoredb';
import { startEsdbTestServer } from '../esdb/esdb-test-server.js';
import { eventStoreContract, type OpenedEventStore } from './event-store.contract.js';

/**
 * Fresh storage for one test on the server at `url`: its own listing file and, on a shared real server, its
 * own stream category, so that neither its streams nor its filtered `$all` see another test's events.
 * Reopening opens another store on the same server, category and listing file.
 */
async function openOn(url: string, category: string | undefined, release: () => Promise<void>): Promise<OpenedEventStore> {
  const dir = await mkdtemp(join(tmpdir(), 'sagaflow-esdb-'));
  const opened: EventStore[] = [];
  const open = async (): Promise<EventStore> => {
    const store = await openEventStoreDbStore(url, { listingPath: join(dir, 'listing.sqlite'), ...(category === undefined ? {} : { category }) });
    opened.push(store);
    return store;
  };
  const store = await open();
  return {
    store,
    reopen: open,
    cleanup: async () => {
      try {
        for (const each of opened) await each.close();
        await release();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

eventStoreContract(
  'EventStoreDB (test double)',
  async () => {
    const server = await startEsdbTestServer();
    return openOn(server.url, undefined, () => server.close());
  },
  { durable: true },
);

// Against a real EventStoreDB (23.10 or later) when EVENTSTORE_URL names one, e.g.
// EVENTSTORE_URL='esdb://localhost:2113?tls=false'. Each test writes to a category of its own.
const realServer = process.env.EVENTSTORE_URL;
if (realServer !== undefined && realServer !== '') {
  eventStoreContract(
    'EventStoreDB (EVENTSTORE_URL)',
    () => openOn(realServer, `sagaflow_test_${randomUUID().replace(/-/g, '')}`, () => Promise.resolve()),
    { durable: true },
  );
}
