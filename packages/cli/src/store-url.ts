import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createMemoryEventStore, EventStoreUnavailableError, type EventStore } from '@sagaflow/core';
import { openSqliteEventStore, openThreadedSqliteEventStore } from '@sagaflow/store-sqlite';
import { OperationError, UsageError } from './cli-error.js';

/** The store used when none is given. */
export const defaultStoreUrl = 'sqlite:.sagaflow/sagaflow.db';

/** The URL with any password masked, for messages. */
export const maskStoreUrl = (url: string): string => url.replace(/\/\/([^:@/]+):[^@/]+@/g, '//$1:***@');

/**
 * Opens the event store a URL names: `sqlite:<path>` (the default, `sqlite:.sagaflow/sagaflow.db`),
 * `esdb://host:2113?tls=false` (any EventStoreDB connection string; add `listing=<path>` to choose
 * the file of the instance listing's read model, default under `.sagaflow/`), or `memory:`
 * (nothing kept; for trials). A SQLite file written by an earlier version is moved to this version's
 * schema at open, told to `log` (default: standard error).
 */
export async function openStore(url: string, options: { readonly log?: (line: string) => void } = {}): Promise<EventStore> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'esdb':
    case 'esdb+discover': {
      const { connectionString, listingPath } = splitListing(url);
      try {
        mkdirSync(dirname(listingPath), { recursive: true });
        // Loaded only when asked for: the gRPC client takes ~0.3 s to load, which every command on SQLite would pay.
        const { openEventStoreDbStore } = await import('@sagaflow/store-eventstoredb');
        return await openEventStoreDbStore(connectionString, { listingPath });
      } catch (error) {
        if (error instanceof EventStoreUnavailableError) throw new OperationError(error.message);
        throw new OperationError(`Cannot open store ${maskStoreUrl(url)}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    case 'sqlite': {
      const { path, thread } = sqliteLocation(url);
      try {
        const log = options.log ?? ((line: string): void => void process.stderr.write(`${line}\n`));
        return thread ? await openThreadedSqliteEventStore(path, { log }) : openSqliteEventStore(path, { log });
      } catch (error) {
        // The store's own error already names the file and what went wrong.
        if (error instanceof EventStoreUnavailableError) throw new OperationError(error.message);
        throw new OperationError(`Cannot open store ${maskStoreUrl(url)}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    case 'memory':
      return createMemoryEventStore();
    default:
      throw new UsageError(`Unsupported store URL "${maskStoreUrl(url)}": use sqlite:<path>, esdb://host:port?tls=false or memory:`);
  }
}

/** Takes Sagaflow's own `listing=<path>` parameter out of an EventStoreDB connection string. */
function splitListing(url: string): { connectionString: string; listingPath: string } {
  const [base = url, query = ''] = url.split('?', 2);
  const params = query.split('&').filter((param) => param !== '');
  const listing = params.find((param) => param.toLowerCase().startsWith('listing='));
  const rest = params.filter((param) => param !== listing);
  const host = base.replace(/^[a-z+]+:\/\//i, '').replace(/^[^@]*@/, '').replace(/[^A-Za-z0-9.-]+/g, '_');
  return {
    connectionString: rest.length > 0 ? `${base}?${rest.join('&')}` : base,
    listingPath: listing !== undefined ? decodeURIComponent(listing.slice('listing='.length)) : `.sagaflow/esdb-listing-${host}.db`,
  };
}

/**
 * The file of a `sqlite:<path>` URL, and whether the store runs on a worker thread of its own
 * (`sqlite:<path>?thread=true`: its commits and their fsync leave the engine's thread free).
 */
export function sqliteLocation(url: string): { path: string; thread: boolean } {
  const rest = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
  const at = rest.indexOf('?');
  const path = at < 0 ? rest : rest.slice(0, at);
  if (path === '') throw new UsageError(`Store URL "${url}" names no file: use sqlite:<path>, e.g. ${defaultStoreUrl}`);
  let thread = false;
  for (const [name, value] of new URLSearchParams(at < 0 ? '' : rest.slice(at + 1))) {
    if (name !== 'thread' || !['true', 'false'].includes(value)) {
      throw new UsageError(`Store URL "${url}": sqlite:<path> takes one option, thread=true or thread=false, not "${name}=${value}"`);
    }
    thread = value === 'true';
  }
  return { path, thread };
}
