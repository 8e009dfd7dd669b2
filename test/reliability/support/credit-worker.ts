/**
 * The downstream of the `transfer` saga as a process: credits the payee in its own SQLite file,
 * behind the idempotency barrier. Prints `delivery <effect id>` for every command it is handed and
 * `credited <transfer id>` when its local transaction commits. `--crash-after-commit` kills the
 * process (SIGKILL, by itself) right after that commit, before the reply is sent.
 * Usage: credit-worker.ts --db PATH --nats URL --namespace NS [--crash-after-commit]
 * Prints `worker ready` once consuming; stops on SIGTERM.
 */
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { createSqliteBarrier } from '@sagaflow/barrier';
import { connectNats } from '@sagaflow/nats';
import { createWorker, StepFailure } from '@sagaflow/worker';
import { credit, transfer } from './sagas.js';

const { values } = parseArgs({ options: { db: { type: 'string' }, nats: { type: 'string' }, namespace: { type: 'string' }, 'crash-after-commit': { type: 'boolean' } } });
if (values.db === undefined || values.nats === undefined || values.namespace === undefined) {
  process.stderr.write('usage: credit-worker.ts --db PATH --nats URL --namespace NS [--crash-after-commit]\n');
  process.exit(2);
}
const say = (line: string): void => void process.stdout.write(`${line}\n`);

const db = openCredits(values.db);
const barrier = createSqliteBarrier(db);
const connection = await connectNats({ url: values.nats, name: 'credit-worker' });
const worker = createWorker({ connection, saga: transfer, namespace: values.namespace, consumer: { ackWaitMs: 1_000, maxDeliver: 50 }, retryDelayMs: 200 });
worker.step(credit, (command, ctx) => {
  say(`delivery ${ctx.effect.id}`);
  let ran = false;
  const outcome = barrier.run(ctx.effect, (tx) => {
    ran = true;
    tx.prepare('INSERT INTO credits (transfer_id, account, amount_cents) VALUES (?, ?, ?)').run(command.transferId, command.to, command.amountCents);
    return { creditId: `credit-${command.transferId}` };
  });
  say(ran ? `credited ${command.transferId}` : `duplicate ${ctx.effect.id}: answered from the barrier`);
  if (values['crash-after-commit'] === true) process.kill(process.pid, 'SIGKILL');
  if (!outcome.ok) throw new StepFailure(outcome.error.code, outcome.error.message, { retryable: outcome.error.retryable ?? true });
  return outcome.reply as { creditId: string };
});
await worker.start();
say('worker ready');

await new Promise<void>((resolve) => process.once('SIGTERM', resolve));
await worker.stop();
await connection.drain();
db.close();

/** The payee's bank: one row per credit. */
function openCredits(path: string): Database.Database {
  const opened = new Database(path);
  opened.pragma('journal_mode = WAL');
  opened.pragma('busy_timeout = 5000');
  opened.exec('CREATE TABLE IF NOT EXISTS credits (transfer_id TEXT NOT NULL, account TEXT NOT NULL, amount_cents INTEGER NOT NULL)');
  return opened;
}
