/**
 * Holds an upstream transaction open in a process of its own, for the SQLite check-back race:
 * `BEGIN IMMEDIATE`, debit, commit marker, print `holding`, wait `holdMs`, then COMMIT or ROLLBACK.
 * Usage: sqlite-tx-holder.ts <db> <instanceId> <holdMs> <commit|rollback>
 */
import Database from 'better-sqlite3';
import { createSqliteBarrier } from '../../src/index.js';

const [path, instanceId, holdMs, end] = process.argv.slice(2);
if (path === undefined || instanceId === undefined || holdMs === undefined || (end !== 'commit' && end !== 'rollback')) {
  process.stderr.write('usage: sqlite-tx-holder.ts <db> <instanceId> <holdMs> <commit|rollback>\n');
  process.exit(2);
}
const db = new Database(path);
db.pragma('busy_timeout = 5000');
const barrier = createSqliteBarrier(db);
db.exec('BEGIN IMMEDIATE');
db.prepare('INSERT INTO business (key) VALUES (?)').run(instanceId);
barrier.markCommitted(db, instanceId);
process.stdout.write('holding\n');
await new Promise((resolve) => setTimeout(resolve, Number(holdMs)));
db.exec(end === 'commit' ? 'COMMIT' : 'ROLLBACK');
db.close();
process.stdout.write(`${end === 'commit' ? 'committed' : 'rolled back'}\n`);
