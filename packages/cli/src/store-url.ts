import { createMemoryEventStore, type EventStore } from '@sagaflow/core';
import { openSqliteEventStore } from '@sagaflow/store-sqlite';
import { OperationError, UsageError } from './cli-error.js';

/** The store used when none is given. */
export const defaultStoreUrl = 'sqlite:.sagaflow/sagaflow.db';

/** The URL with any password masked, for messages. */
export const maskStoreUrl = (url: string): string => url.replace(/\/\/([^:@/]+):[^@/]+@/g, '//$1:***@');

/**
 * Opens the event store a URL names: `sqlite:<path>` (the default, `sqlite:.sagaflow/sagaflow.db`)
 * or `memory:` (nothing kept; for trials).
 */
export function openStore(url: string): EventStore {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'sqlite': {
      const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
      if (path === '') throw new UsageError(`Store URL "${url}" names no file: use sqlite:<path>, e.g. ${defaultStoreUrl}`);
      try {
        return openSqliteEventStore(path);
      } catch (error) {
        throw new OperationError(`Cannot open store ${maskStoreUrl(url)}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    case 'memory':
      return createMemoryEventStore();
    default:
      throw new UsageError(`Unsupported store URL "${maskStoreUrl(url)}": use sqlite:<path> or memory:`);
  }
}
