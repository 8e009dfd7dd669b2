/**
 * The worker thread of {@link openThreadedSqliteEventStore}: it owns the SQLite connection and answers
 * the engine thread's calls one at a time, in the order they were sent.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { WrongExpectedRevisionError, type AppendRequest, type EventStore, type InstanceFilter } from '@sagaflow/core';
import { openSqliteEventStore } from './sqlite-event-store.js';
import { errorData, type StoreAnswer, type StoreCall } from './thread-protocol.js';

const { path, options } = workerData as { path: string; options: { busyTimeoutMs?: number } };
const port = parentPort;
if (port === null) throw new Error('store-thread.js runs as a worker thread of openThreadedSqliteEventStore');

let store: EventStore;
try {
  store = openSqliteEventStore(path, options);
  port.postMessage({ id: 0, ok: true, value: 'open' } satisfies StoreAnswer);
} catch (error) {
  port.postMessage({ id: 0, ok: false, error: errorData(error) } satisfies StoreAnswer);
  process.exit(0);
}

async function answer(call: StoreCall): Promise<unknown> {
  const [first, second] = call.args;
  switch (call.method) {
    case 'append':
      return store.append(first as AppendRequest);
    case 'appendMany':
      // A conflict is a result here, not a throw: sent as data, made an error again on the other side.
      return (await store.appendMany(first as AppendRequest[])).map((result) => (result instanceof WrongExpectedRevisionError ? { conflict: errorData(result) } : result));
    case 'readStream':
      return store.readStream(first as string);
    case 'readAll':
      return store.readAll(first as number, second as number);
    case 'listInstances':
      return store.listInstances(first as InstanceFilter | undefined);
    case 'getInstance':
      return store.getInstance(first as string);
    case 'close':
      return store.close();
  }
}

port.on('message', (call: StoreCall) => {
  answer(call).then(
    (value) => port.postMessage({ id: call.id, ok: true, value } satisfies StoreAnswer),
    (error: unknown) => port.postMessage({ id: call.id, ok: false, error: errorData(error) } satisfies StoreAnswer),
  );
});
