/**
 * A process opening new SQLite files at agreed moments, for the tests of several processes creating the
 * same file at once. Usage:
 * `node --import tsx sqlite-store-opener.ts <store|listing> <path prefix> <files> <startAtEpochMs> <intervalMs>`.
 * File `n` (`<prefix>-<n>.sqlite`) is opened, and so created, at `startAt + n × interval`, by every
 * process running this at the same time: as a SQLite event store (`store`) or as the instance listing of
 * an EventStoreDB store (`listing`). Prints the number of files opened; any failure exits non-zero.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { openSqliteEventStore } from '@sagaflow/store-sqlite';
import { InstanceListing } from '../../../packages/store-eventstoredb/src/instance-listing.js';

const [kind, prefix, ...numbers] = process.argv.slice(2);
const [files, startAt, intervalMs] = numbers.map(Number);
if ((kind !== 'store' && kind !== 'listing') || prefix === undefined || files === undefined || startAt === undefined || intervalMs === undefined) {
  throw new Error('usage: sqlite-store-opener <store|listing> <path prefix> <files> <startAtEpochMs> <intervalMs>');
}
for (let n = 0; n < files; n += 1) {
  const at = startAt + n * intervalMs;
  await sleep(Math.max(0, at - Date.now()));
  // Spin the last millisecond, so the processes start their opens closer together than a timer allows.
  while (Date.now() < at) {
    // busy wait
  }
  const path = `${prefix}-${n}.sqlite`;
  if (kind === 'store') await openSqliteEventStore(path).close();
  else InstanceListing.open(path, 'saga', 5_000).close();
}
process.stdout.write(String(files));
