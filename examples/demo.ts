/**
 * `npm run demo`: runs order-fulfilment sagas on the embedded SQLite store with the example
 * workers in this process, failures injected (declined payments, a flaky carrier), then prints
 * a summary read back from the event log.
 * Options: --count N (default 1000), --concurrency N (default 100), --dir PATH (default .sagaflow).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';
import { createRegistry, decodeStream, isTerminal } from '@sagaflow/core';
import { createInProcessTransport, Engine } from '@sagaflow/engine';
import { openSqliteEventStore } from '@sagaflow/store-sqlite';
import orderFulfilment from '../sagas/order-fulfilment.saga.js';
import { openOrderWorkers } from './order-fulfilment/order-workers.js';
import { orderInput } from './order-fulfilment/order-input.js';

const { values } = parseArgs({
  options: { count: { type: 'string', default: '1000' }, concurrency: { type: 'string', default: '100' }, dir: { type: 'string', default: '.sagaflow' } },
});
const count = Number(values.count);
const concurrency = Number(values.concurrency);
if (!Number.isInteger(count) || count < 1 || !Number.isInteger(concurrency) || concurrency < 1) {
  process.stderr.write('demo: --count and --concurrency must be positive integers\n');
  process.exit(2);
}
const dir = values.dir;
const storePath = join(dir, 'demo.db');
const workersPath = join(dir, 'demo-workers.db');
mkdirSync(dir, { recursive: true });
for (const path of [storePath, workersPath]) for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });

const store = openSqliteEventStore(storePath);
const workers = openOrderWorkers(workersPath, { maxLatencyMs: 5 });
const transport = createInProcessTransport();
for (const [operation, handler] of Object.entries(workers.handlers)) transport.register(operation, handler);
const engine = new Engine({ store, registry: createRegistry([orderFulfilment]), transport });

let stopping = false;
process.on('SIGINT', () => {
  stopping = true;
});

await engine.start();
process.stdout.write(`Running ${count} order-fulfilment sagas (${concurrency} in flight): 20% of payments declined, 10% of shipments fail twice before succeeding.\n`);
const began = performance.now();
const finished = new Set<string>();
let started = 0;

const progress = (): void => {
  const width = 30;
  const filled = Math.round((finished.size / count) * width);
  const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${finished.size}/${count}`;
  if (process.stdout.isTTY) process.stdout.write(`\r${line}`);
  else if (finished.size % Math.max(1, Math.floor(count / 10)) === 0) process.stdout.write(`${line}\n`);
};

while (finished.size < count && !stopping) {
  while (started < count && started - finished.size < concurrency) {
    const id = `order-${started}`;
    const result = await engine.startSaga('order-fulfilment', id, orderInput(started));
    if (E.isLeft(result)) throw new Error(result.left.message);
    started++;
  }
  const open = await store.listInstances({ statuses: ['running', 'compensating', 'stuck'], limit: concurrency + 1 });
  const openIds = new Set(open.map((summary) => summary.instanceId));
  for (let n = 0; n < started; n++) {
    const id = `order-${n}`;
    if (!finished.has(id) && !openIds.has(id)) {
      finished.add(id);
      progress();
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 10));
}
const seconds = (performance.now() - began) / 1000;
if (process.stdout.isTTY) process.stdout.write('\n');
await engine.stop();
await transport.close();

const counts = new Map<string, number>();
const latencies: number[] = [];
for (let n = 0; n < started; n++) {
  const events = decodeStream(await store.readStream(`order-${n}`));
  if (E.isLeft(events)) throw new Error(events.left.message);
  const first = events.right[0];
  const last = events.right[events.right.length - 1];
  if (first === undefined || last === undefined) continue;
  counts.set(last.status, (counts.get(last.status) ?? 0) + 1);
  if (isTerminal(last.status)) latencies.push(last.at - first.at);
}
latencies.sort((a, b) => a - b);
const percentile = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
await store.close();
workers.close();

process.stdout.write(
  [
    '',
    `Finished ${finished.size} of ${count} sagas in ${seconds.toFixed(2)} s (${(finished.size / seconds).toFixed(0)} sagas/s)${stopping ? ' — interrupted' : ''}`,
    `  completed:   ${counts.get('completed') ?? 0}`,
    `  compensated: ${counts.get('compensated') ?? 0}`,
    `  stuck:       ${counts.get('stuck') ?? 0}`,
    `  latency (start to terminal): p50 ${percentile(50)} ms, p99 ${percentile(99)} ms`,
    '',
    `Event log: ${storePath} (SQLite; every transition of every instance). Workers' database: ${workersPath}.`,
    '',
  ].join('\n'),
);
process.exit(stopping ? 130 : 0);
