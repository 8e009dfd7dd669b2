import { existsSync } from 'node:fs';
import type { EventStore } from '@sagaflow/core';
import { OperationError } from './cli-error.js';
import { maskStoreUrl, openStore, sqliteLocation } from './store-url.js';

/**
 * Opens the store for a read-only command and closes it after `work`. Opening goes through
 * {@link openStore} like every command; the one difference is that a SQLite file that does not exist is
 * an error here, where `openStore` would create an empty store (and its directory) at a mistyped path.
 */
export async function withReadStore<T>(url: string, work: (store: EventStore) => Promise<T>): Promise<T> {
  const store = await openReadStore(url);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/** Opens the store for reading: as {@link openStore}, but a SQLite file that does not exist is an error. */
export async function openReadStore(url: string): Promise<EventStore> {
  const sqlitePath = /^sqlite:/i.test(url) ? sqliteLocation(url).path : undefined;
  if (sqlitePath !== undefined && sqlitePath !== '' && sqlitePath !== ':memory:' && !existsSync(sqlitePath)) {
    throw new OperationError(`No event store at ${sqlitePath} (store ${maskStoreUrl(url)}): check --store or SAGAFLOW_STORE`);
  }
  return openStore(url);
}
