/**
 * A process opening new SQLite event store files at agreed moments, for the test of several processes
 * creating the same store at once. Usage:
 * `node --import tsx sqlite-store-opener.ts <path prefix> <files> <startAtEpochMs> <intervalMs>`.
 * File `n` (`<prefix>-<n>.sqlite`) is opened, and so created, at `startAt + n × interval`, by every
 * process running this at the same time. Prints the number of files opened; any failure exits non-zero.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { openSqliteEventStore } from '@sagaflow/store-sqlite';

const [prefix, files, startAt, intervalMs] = process.argv.slice(2).map((arg, index) => (index === 0 ? arg : Number(arg)));
if (typeof prefix !== 'string' || typeof files !== 'number' || typeof startAt !== 'number' || typeof intervalMs !== 'number') {
  throw new Error('usage: sqlite-store-opener <path prefix> <files> <startAtEpochMs> <intervalMs>');
}
for (let n = 0; n < files; n += 1) {
  const at = startAt + n * intervalMs;
  await sleep(Math.max(0, at - Date.now()));
  // Spin the last millisecond, so the processes start their opens closer together than a timer allows.
  while (Date.now() < at) {
    // busy wait
  }
  const store = openSqliteEventStore(`${prefix}-${n}.sqlite`);
  await store.close();
}
process.stdout.write(String(files));
