/**
 * The SQLite store's append path alone, fed what the engine writes at 100 sagas in flight: the real
 * append requests of the standard workload (events and listing rows from the core's `decide`), the
 * requests of many instances grouped into one `appendMany` commit as the engine's append batcher
 * groups them. Reports CPU microseconds per saga and per append and wall time per commit, so changes
 * to the store can be measured apart from the engine, NATS and the other processes.
 *
 *   npm run bench -- --only append [--sagas 20000 --in-flight 100 --batch 43 --workloads W1,W2 --pause-ms 0]
 *   npm run bench -- --only append --in-flight 1 --batch 1 --pause-ms 1   # commits as at concurrency 1, idle between them
 *   node --import tsx bench/store-append.ts --sagas 20000
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { AppendRequest } from '@sagaflow/core';
import { openSqliteEventStore } from '@sagaflow/store-sqlite';
import { appendsOfSaga } from './saga-appends.js';
import { instanceIdForms, type InstanceIds } from './steps.js';
import { benchOf, listOf, oneOf, readOptions, wholeNumber } from './options.js';

const usage = `
npm run bench -- --only append [OPTIONS]    CPU per saga of the SQLite store's appends alone

  --sagas 20000        sagas per workload
  --in-flight 100      sagas whose appends are interleaved, as the engine's are at that many in flight
  --batch 43           appends per commit (the engine's append batcher groups them so)
  --pause-ms 0         idle time after each commit, as the engine waits for the next input at concurrency 1
  --workloads W1,W2    workloads to run
  --ids sequential     instance ids: sequential (order-<n>-…, as the throughput bench names them) or uuid (random)
  --keep               keep the store file and print its path
`;
const bench = benchOf('append');
const { values } = readOptions(bench, usage, () =>
  parseArgs({
    options: {
      sagas: { type: 'string', default: '20000' },
      'in-flight': { type: 'string', default: '100' },
      batch: { type: 'string', default: '43' },
      workloads: { type: 'string', default: 'W1,W2' },
      keep: { type: 'boolean', default: false },
      'pause-ms': { type: 'string', default: '0' },
      ids: { type: 'string', default: 'sequential' },
    },
  }),
);

/**
 * Commits the sagas' requests the way the engine interleaves them: `inFlight` sagas active at once,
 * each commit taking the next request of up to `batch` of them; a finished saga makes room for the next.
 */
async function run(workload: string, sagas: AppendRequest[][], inFlight: number, batch: number, pauseMs: number, ids: InstanceIds): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sagaflow-append-'));
  const store = openSqliteEventStore(join(dir, 'sagaflow.db'));
  try {
    const queue = sagas.map((requests) => [...requests]);
    const active: AppendRequest[][] = [];
    let nextSaga = 0;
    let commits = 0;
    let appends = 0;
    let wallInCommits = 0;
    const before = process.cpuUsage();
    const started = performance.now();
    for (;;) {
      while (active.length < inFlight && nextSaga < queue.length) active.push(queue[nextSaga++] ?? []);
      if (active.length === 0) break;
      const requests: AppendRequest[] = [];
      for (const saga of active.slice(0, batch)) {
        const request = saga.shift();
        if (request !== undefined) requests.push(request);
      }
      // Sagas whose requests are taken move to the back, as replies arrive in turn.
      active.push(...active.splice(0, Math.min(batch, active.length)));
      for (let at = active.length - 1; at >= 0; at--) if (active[at]?.length === 0) active.splice(at, 1);
      const commitStarted = performance.now();
      await store.appendMany(requests);
      wallInCommits += performance.now() - commitStarted;
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
      commits++;
      appends += requests.length;
    }
    const wall = performance.now() - started;
    const used = process.cpuUsage(before);
    const cpuUs = used.user + used.system;
    console.log(
      `${workload}${ids === 'uuid' ? ' (uuid ids)' : ''}: ${(cpuUs / sagas.length).toFixed(1)} µs CPU per saga, ${(cpuUs / appends).toFixed(1)} µs per append ` +
        `(${appends} appends in ${commits} commits, ${(wallInCommits / commits).toFixed(2)} ms wall per commit; ` +
        `${(wall / 1000).toFixed(2)} s wall${pauseMs > 0 ? ` with a ${pauseMs} ms pause after each commit` : ''}, ${((used.system / cpuUs) * 100).toFixed(0)}% of CPU in the kernel)`,
    );
  } finally {
    await store.close();
    if (values.keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

const count = wholeNumber(bench, 'sagas', values.sagas, 1);
const inFlight = wholeNumber(bench, 'in-flight', values['in-flight'], 1);
const batch = wholeNumber(bench, 'batch', values.batch, 1);
const pauseMs = wholeNumber(bench, 'pause-ms', values['pause-ms'], 0);
const workloads = listOf(bench, 'workloads', values.workloads, ['W1', 'W2']);
const ids = oneOf(bench, 'ids', values.ids, instanceIdForms);
for (const workload of workloads) {
  const sagas = Array.from({ length: count }, (_, index) => appendsOfSaga(index, workload === 'W2', ids));
  await run(workload, sagas, inFlight, batch, pauseMs, ids);
}
