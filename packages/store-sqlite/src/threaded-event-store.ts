import { Worker } from 'node:worker_threads';
import type { WrongExpectedRevisionError } from '@sagaflow/core';
import { EventStoreUnavailableError, type AppendRequest, type AppendResult, type EventStore, type InstanceFilter, type InstanceSummary, type RecordedEvent } from '@sagaflow/core';
import { defaultBusyTimeoutMs, openDatabase } from './connection.js';
import type { SqliteEventStoreOptions } from './sqlite-event-store.js';
import { errorOf, type ErrorData, type StoreAnswer, type StoreCall } from './thread-protocol.js';

/**
 * The SQLite event store run on a worker thread of its own: the same file, schema and guarantees as
 * {@link openSqliteEventStore} (an append resolves once its transaction, fsync included, is committed),
 * but the statements, the commit and its fsync no longer hold the caller's thread, which goes on
 * deciding meanwhile. Calls are answered in the order they are made. `now` is not supported (the
 * thread stamps `recordedAt` with its own clock).
 * @throws EventStoreUnavailableError naming `path` when the thread cannot open the file.
 */
export async function openThreadedSqliteEventStore(path: string, options: Omit<SqliteEventStoreOptions, 'now'> = {}): Promise<EventStore> {
  // A file written by an earlier version is moved to this schema here, where `log` is (no function goes to the thread).
  if (options.log !== undefined) openDatabase(path, options.busyTimeoutMs ?? defaultBusyTimeoutMs, options.log).close();
  // From the compiled package the thread is store-thread.js; from the sources (tests, tsx) it is
  // store-thread.ts, which the thread loads through tsx (a thread does not inherit the loader hooks).
  const fromSources = import.meta.url.endsWith('.ts');
  const workerData = { path, options: { ...(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs }) } };
  const worker = fromSources
    ? new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(new URL('./store-thread.ts', import.meta.url).href)}); })`, { eval: true, workerData })
    : new Worker(new URL('./store-thread.js', import.meta.url), { workerData });
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let next = 1;
  let gone: Error | null = null;
  const opened = new Promise<void>((resolve, reject) => {
    waiting.set(0, { resolve: () => resolve(), reject });
  });
  worker.on('message', (answer: StoreAnswer) => {
    const caller = waiting.get(answer.id);
    if (caller === undefined) return;
    waiting.delete(answer.id);
    if (answer.ok) caller.resolve(answer.value);
    else caller.reject(errorOf(answer.error));
  });
  const fail = (error: Error): void => {
    gone ??= error;
    for (const caller of waiting.values()) caller.reject(gone);
    waiting.clear();
  };
  worker.on('error', (error) => fail(new EventStoreUnavailableError(`sqlite:${path}`, `its thread failed: ${error.message}`)));
  worker.on('exit', (code) => fail(new EventStoreUnavailableError(`sqlite:${path}`, `its thread ended (exit code ${code})`)));
  await opened;

  const call = <T>(method: StoreCall['method'], ...args: unknown[]): Promise<T> => {
    if (gone !== null) return Promise.reject(gone);
    const id = next++;
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage({ id, method, args } satisfies StoreCall);
    });
  };
  let closing: Promise<void> | undefined;
  return {
    append: (request: AppendRequest) => call<AppendResult>('append', request),
    appendMany: async (requests: readonly AppendRequest[]) => {
      const results = await call<readonly (AppendResult | { conflict: ErrorData })[]>('appendMany', requests);
      return results.map((result) => ('conflict' in result ? (errorOf(result.conflict) as WrongExpectedRevisionError) : result));
    },
    readStream: (instanceId: string) => call<readonly RecordedEvent[]>('readStream', instanceId),
    readAll: (afterPosition: number, limit: number) => call<readonly RecordedEvent[]>('readAll', afterPosition, limit),
    listInstances: (filter?: InstanceFilter) => call<readonly InstanceSummary[]>('listInstances', filter),
    getInstance: (instanceId: string) => call<InstanceSummary | undefined>('getInstance', instanceId),
    close: () =>
      (closing ??= (async () => {
        if (gone === null) await call<void>('close');
        await worker.terminate();
      })()),
  };
}
