/**
 * An engine process for the crash test: SQLite event store, in-process order workers with their
 * own SQLite file. Starts `order-0` … `order-<count-1>` (skipping those already started), prints
 * `progress <terminal>/<count>` as instances finish, and exits 0 when all are terminal.
 * Usage: crash-engine.ts <store.db> <workers.db> <count>
 */
import * as E from 'fp-ts/lib/Either.js';
import { createRegistry } from '@sagaflow/core';
import { createInProcessTransport, Engine } from '@sagaflow/engine';
import { openSqliteEventStore } from '@sagaflow/store-sqlite';
import orderFulfilment from '../../sagas/order-fulfilment.saga.js';
import { openOrderWorkers } from '../../examples/order-fulfilment/order-workers.js';
import { orderInput } from '../../examples/order-fulfilment/order-input.js';

const [storePath, workersPath, countText] = process.argv.slice(2);
if (storePath === undefined || workersPath === undefined || countText === undefined) {
  process.stderr.write('usage: crash-engine.ts <store.db> <workers.db> <count>\n');
  process.exit(2);
}
const count = Number(countText);
const store = openSqliteEventStore(storePath);
const workers = openOrderWorkers(workersPath);
const transport = createInProcessTransport();
for (const [operation, handler] of Object.entries(workers.handlers)) transport.register(operation, handler);
const engine = new Engine({ store, registry: createRegistry([orderFulfilment]), transport });

const report = await engine.start();
process.stdout.write(`recovered ${report.instances} ${report.redispatched} ${report.timersArmed}\n`);

for (let n = 0; n < count; n++) {
  const started = await engine.startSaga('order-fulfilment', `order-${n}`, orderInput(n));
  if (E.isLeft(started) && started.left._tag !== 'InstanceExists') {
    process.stderr.write(`start order-${n}: ${started.left.message}\n`);
    process.exit(1);
  }
  if (n % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 5));
}

for (;;) {
  const open = await store.listInstances({ statuses: ['pending', 'running', 'compensating', 'stuck'], limit: count });
  process.stdout.write(`progress ${count - open.length}/${count}\n`);
  if (open.length === 0) break;
  await new Promise((resolve) => setTimeout(resolve, 50));
}
await engine.stop();
await transport.close();
await store.close();
workers.close();
process.stdout.write('done\n');
