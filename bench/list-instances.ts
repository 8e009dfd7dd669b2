/**
 * How fast `sagaflow list` answers on a large SQLite store (issue 5: under a second over 100,000
 * instances). Fills a temporary store with 100,000 instances through the store API (appendMany in
 * batches; 4 events each), then runs the real binary a few times per query and prints the median
 * wall time of each, next to the bare start-up time of the binary (`sagaflow --help`).
 *
 *   npm run bench -- --only list                    # or: npm run bench:list, node --import tsx bench/list-instances.ts
 *   node --import tsx bench/list-instances.ts --instances 20000 --runs 3 --keep
 *
 * Not a test: the numbers depend on the machine. docs/benchmarks.md records measured ones.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { InstanceFilter } from '@sagaflow/core';
import { openSqliteEventStore } from '@sagaflow/store-sqlite';
import { sagaflowFromSources } from '../examples/demo/processes.js';
import { fillLargeStore } from './large-store.js';
import { benchOf, readOptions, wholeNumber } from './options.js';

const usage = `
npm run bench -- --only list [OPTIONS]    how fast \`sagaflow list\` answers on a large SQLite store

  --instances 100000   instances written to the store
  --runs 5             runs of the binary per query; the median is reported
  --batch 2000         instances per commit while filling the store
  --keep               keep the store file and print its path
`;
const bench = benchOf('list');
const { values } = readOptions(bench, usage, () =>
  parseArgs({
    options: { instances: { type: 'string', default: '100000' }, runs: { type: 'string', default: '5' }, batch: { type: 'string', default: '2000' }, keep: { type: 'boolean', default: false } },
  }),
);
const total = wholeNumber(bench, 'instances', values.instances, 1);
const runs = wholeNumber(bench, 'runs', values.runs, 1);
const batchSize = wholeNumber(bench, 'batch', values.batch, 1);
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sagaflow-bench-'));
const path = join(dir, 'sagaflow.db');
const day = 86_400_000;

function sagaflow(args: readonly string[]): number {
  const started = performance.now();
  execFileSync(process.execPath, [...sagaflowFromSources, ...args], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  return performance.now() - started;
}

const median = (samples: readonly number[]): number => {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

const now = Date.now();
const fillMs = await fillLargeStore(path, total, batchSize, now);
const sizeMb = statSync(path).size / 1024 / 1024;

// The query alone, in this process: what the listing costs the store, without the binary's start-up.
const reader = openSqliteEventStore(path);
const queries: { name: string; filter: InstanceFilter }[] = [
  { name: 'newest 100', filter: { limit: 100 } },
  { name: 'status stuck, 100', filter: { statuses: ['stuck'], limit: 100 } },
  { name: 'saga trip-booking, 100', filter: { saga: 'trip-booking', limit: 100 } },
  { name: 'saga + 2 statuses + since 7d, 100', filter: { saga: 'order-fulfilment', statuses: ['running', 'stuck'], updatedSince: now - 7 * day, limit: 100 } },
  { name: 'newest 1000', filter: { limit: 1000 } },
];
const queryTimes = [];
for (const { name, filter } of queries) {
  const samples: number[] = [];
  for (let i = 0; i < 21; i++) {
    const started = performance.now();
    await reader.listInstances(filter);
    samples.push(performance.now() - started);
  }
  queryTimes.push({ name, median: median(samples.slice(1)) });
}
await reader.close();

const storeArgs = ['--store', `sqlite:${path}`];
const cases: { name: string; args: string[] }[] = [
  { name: 'sagaflow --help (start-up only)', args: ['--help'] },
  { name: 'list (newest 100)', args: ['list', ...storeArgs] },
  { name: 'list --json (newest 100)', args: ['list', '--json', ...storeArgs] },
  { name: 'list --status stuck', args: ['list', '--status', 'stuck', ...storeArgs] },
  { name: 'list --saga trip-booking', args: ['list', '--saga', 'trip-booking', ...storeArgs] },
  { name: 'list --saga order-fulfilment --status running,stuck --since 7d', args: ['list', '--saga', 'order-fulfilment', '--status', 'running,stuck', '--since', '7d', ...storeArgs] },
  { name: 'list --limit 1000', args: ['list', '--limit', '1000', ...storeArgs] },
];
sagaflow(['list', '--limit', '1', ...storeArgs]); // warm the file cache and tsx's compile cache
const results = cases.map(({ name, args }) => {
  const samples = Array.from({ length: runs }, () => sagaflow(args));
  return { name, median: median(samples), min: Math.min(...samples), max: Math.max(...samples) };
});

process.stdout.write(
  [
    `sagaflow list over ${total.toLocaleString('en')} instances (${(total * 4).toLocaleString('en')} events, ${sizeMb.toFixed(0)} MB SQLite), ${runs} runs each, wall time of the whole process`,
    `machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}, ${process.platform}; store filled in ${(fillMs / 1000).toFixed(1)} s`,
    '',
    `${'command'.padEnd(66)}${'median'.padStart(9)}${'min'.padStart(9)}${'max'.padStart(9)}`,
    ...results.map((r) => `${r.name.padEnd(66)}${`${r.median.toFixed(0)} ms`.padStart(9)}${`${r.min.toFixed(0)} ms`.padStart(9)}${`${r.max.toFixed(0)} ms`.padStart(9)}`),
    '',
    'store.listInstances alone (in process, median of 20):',
    ...queryTimes.map((q) => `  ${q.name.padEnd(64)}${`${q.median.toFixed(2)} ms`.padStart(9)}`),
    '',
  ].join('\n'),
);
if (values.keep) process.stdout.write(`store kept at ${path}\n`);
else rmSync(dir, { recursive: true, force: true });
