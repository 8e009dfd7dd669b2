/**
 * The bank service as a process: serves check-backs for `transfer` from its PostgreSQL markers and,
 * given `--transfer`, runs one two-phase transfer, printing `at <point>` at each step and
 * `result <json>` at the end. `--crash-at <point>` kills the process (SIGKILL, by itself) at that
 * point; `--hold-ms N` keeps the local transaction open N ms after its commit marker is written.
 * Usage: upstream-process.ts --pg URL --schema S --nats URL --namespace NS
 *        [--transfer JSON] [--crash-at prepared|marked|committed|rolledBack] [--hold-ms N]
 * Prints `upstream ready` once serving; stops on SIGTERM.
 */
import { parseArgs } from 'node:util';
import { jetstream } from '@nats-io/jetstream';
import pg from 'pg';
import { connectNats, naming } from '@sagaflow/nats';
import { openBank, serveBankCheckBacks, transferMoney, type TransferPoint } from './bank.js';
import type { TransferInput } from './sagas.js';

const { values } = parseArgs({
  options: {
    pg: { type: 'string' },
    schema: { type: 'string' },
    nats: { type: 'string' },
    namespace: { type: 'string' },
    transfer: { type: 'string' },
    'crash-at': { type: 'string' },
    'hold-ms': { type: 'string' },
  },
});
if (values.pg === undefined || values.schema === undefined || values.nats === undefined || values.namespace === undefined) {
  process.stderr.write('usage: upstream-process.ts --pg URL --schema S --nats URL --namespace NS [--transfer JSON] [--crash-at POINT] [--hold-ms N]\n');
  process.exit(2);
}
const say = (line: string): void => void process.stdout.write(`${line}\n`);

const pool = new pg.Pool({ connectionString: values.pg, max: 4 });
const bank = await openBank(pool, values.schema);
const connection = await connectNats({ url: values.nats, name: 'bank' });
const checkBacks = await serveBankCheckBacks(bank, connection, values.namespace);
say('upstream ready');

if (values.transfer !== undefined) {
  const input = JSON.parse(values.transfer) as TransferInput;
  const holdMs = Number(values['hold-ms'] ?? 0);
  const result = await transferMoney(bank, { js: jetstream(connection), names: naming(values.namespace) }, input, {
    at: async (point: TransferPoint) => {
      say(`at ${point}`);
      if (point === values['crash-at']) process.kill(process.pid, 'SIGKILL');
      if (point === 'marked' && holdMs > 0) await new Promise((resolve) => setTimeout(resolve, holdMs));
    },
  });
  say(`result ${JSON.stringify(result)}`);
}

await new Promise<void>((resolve) => process.once('SIGTERM', resolve));
await checkBacks.stop();
await connection.drain();
await pool.end();
