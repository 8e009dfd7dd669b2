/**
 * A bank that starts its sagas through the transactional outbox instead of a two-phase start: its
 * SQLite transaction debits the payer and writes the start request; a relay publishes it.
 *   --transfer JSON   run one transfer (then relay, unless it crashes first)
 *   --crash-at before-commit   kill -9 inside the transaction, after the request is written
 *   --crash-at after-commit    kill -9 right after the commit, before any relay runs
 *   --crash-at after-publish   kill -9 when the relay has published a request, before it is marked sent
 * Usage: outbox-upstream.ts --db PATH --nats URL --namespace NS [--transfer JSON] [--crash-at POINT]
 * Prints `committed <id>` after the commit, `relay ready`, `published <msg id>`; relays until SIGTERM.
 */
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { connectNats } from '@sagaflow/nats';
import { createOutboxRelay, createSqliteOutbox, type OutboxStore } from '@sagaflow/outbox';
import { registry, type TransferInput } from './sagas.js';

const { values } = parseArgs({
  options: { db: { type: 'string' }, nats: { type: 'string' }, namespace: { type: 'string' }, transfer: { type: 'string' }, 'crash-at': { type: 'string' } },
});
if (values.db === undefined || values.nats === undefined || values.namespace === undefined) {
  process.stderr.write('usage: outbox-upstream.ts --db PATH --nats URL --namespace NS [--transfer JSON] [--crash-at POINT]\n');
  process.exit(2);
}
const say = (line: string): void => void process.stdout.write(`${line}\n`);
const crashAt = values['crash-at'];
const crash = (): never => {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
};

const db = new Database(values.db);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec('CREATE TABLE IF NOT EXISTS debits (transfer_id TEXT PRIMARY KEY, account TEXT NOT NULL, amount_cents INTEGER NOT NULL)');
const outbox = createSqliteOutbox(db, { sagas: registry });

if (values.transfer !== undefined) {
  const input = JSON.parse(values.transfer) as TransferInput;
  db.transaction(() => {
    db.prepare('INSERT INTO debits (transfer_id, account, amount_cents) VALUES (?, ?, ?)').run(input.transferId, input.from, input.amountCents);
    outbox.start(db, 'transfer', input, { instanceId: input.transferId });
    if (crashAt === 'before-commit') crash();
  })();
  say(`committed ${input.transferId}`);
  if (crashAt === 'after-commit') crash();
}

const connection = await connectNats({ url: values.nats, name: 'outbox-bank' });
const store: OutboxStore = crashAt === 'after-publish' ? { ...outbox, markSent: () => Promise.resolve(crash()) } : outbox;
const relay = createOutboxRelay({
  store,
  connection,
  namespace: values.namespace,
  pollIntervalMs: 50,
  leaseMs: 1_000, // a request claimed by a relay that died is taken over after 1 s (default 30 s)
  log: (event) => {
    if (event.type === 'published') say(`published ${event.row.msgId}`);
    else if (event.level !== 'info') process.stderr.write(`${event.message}\n`);
  },
});
say('relay ready');

await new Promise<void>((resolve) => process.once('SIGTERM', resolve));
await relay.stop();
await connection.drain();
db.close();
