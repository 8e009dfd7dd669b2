/**
 * A process opening a SQLite event store once, for the tests of an open that waits for another process.
 * Usage: `node --import tsx sqlite-store-open.ts <path> <busyTimeoutMs>`. Creates `<path>.opening` just
 * before it opens the store, prints what the store told its log, one line each, then `opened`; a failure
 * exits non-zero.
 */
import { writeFileSync } from 'node:fs';
import { openSqliteEventStore } from '@sagaflow/store-sqlite';

const [path, busyTimeoutMs] = process.argv.slice(2);
if (path === undefined || busyTimeoutMs === undefined) throw new Error('usage: sqlite-store-open <path> <busyTimeoutMs>');
writeFileSync(`${path}.opening`, '');
const store = openSqliteEventStore(path, { busyTimeoutMs: Number(busyTimeoutMs), log: (line) => process.stdout.write(`${line}\n`) });
process.stdout.write('opened\n');
await store.close();
