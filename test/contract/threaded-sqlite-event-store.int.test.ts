/**
 * The SQLite store on a worker thread of its own passes the same contract as on the caller's thread:
 * answers in call order, conflicts as WrongExpectedRevisionError results, bad requests refused with
 * their own errors, durable across a reopen; a file it cannot open is a clear error, not a hang; and an
 * older file is moved to the current schema where its log is.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { EventStoreUnavailableError, type EventStore } from '@sagaflow/core';
import { openThreadedSqliteEventStore } from '@sagaflow/store-sqlite';
import { appendOf, eventStoreContract, started } from './event-store.contract.js';
import { versionOneStore } from './support/version-one-store.js';

eventStoreContract(
  'SQLite on a worker thread',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sagaflow-sqlite-thread-'));
    const path = join(dir, 'events.sqlite');
    const stores: EventStore[] = [];
    const open = async (): Promise<EventStore> => {
      const store = await openThreadedSqliteEventStore(path);
      stores.push(store);
      return store;
    };
    return {
      store: await open(),
      reopen: open,
      cleanup: async () => {
        try {
          for (const store of stores) await store.close();
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    };
  },
  { durable: true },
);

it('a file that is not a Sagaflow store: EventStoreUnavailableError naming it, from the thread', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sagaflow-sqlite-thread-'));
  try {
    const path = join(dir, 'not-a-store.txt');
    await writeFile(path, 'hello, this is text');
    const opening = openThreadedSqliteEventStore(path);
    await expect(opening).rejects.toBeInstanceOf(EventStoreUnavailableError);
    await expect(opening).rejects.toThrow(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

it('moves a file of schema version 1 on the caller’s thread, told to its log, then serves it from the thread', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sagaflow-sqlite-thread-'));
  const path = join(dir, 'v1.sqlite');
  try {
    versionOneStore(path, [{ id: 'order-1', events: 2 }]);
    const told: string[] = [];
    const store = await openThreadedSqliteEventStore(path, { log: (line) => told.push(line) });
    try {
      expect(told.map((line) => line.split(' ', 1)[0])).toEqual(['moving', 'moved']);
      expect((await store.readStream('order-1')).map((event) => event.revision)).toEqual([0, 1]);
      expect(await store.append(appendOf('order-1', 1, [started('order-1')]))).toEqual({ revision: 2, position: 3 });
    } finally {
      await store.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
