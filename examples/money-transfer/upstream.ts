/**
 * The source bank's API side as a process: the upstream of the money-transfer saga (bank-api.ts).
 * Serves the engine's check-backs from the source bank's database and runs the transfers it is
 * given, each a two-phase start around the local transaction that debits the payer.
 * Usage: upstream.ts --db PATH [--namespace NS] [--nats URL]
 *        [--instances N,N,...]   transfers to run: numbers n, inputs `transferInput(n)` (bank-services.ts)
 *        [--parallel N]          transfers in flight at once (default 8)
 *        [--crash-at before-commit|after-commit]   kill -9 itself at that point of the first transfer to reach it
 * Prints `upstream ready` once serving check-backs, `transfer <id> <outcome>` for each transfer
 * (`confirmed`, `cancelled`, `notStarted`, `unsent`, `unknown`), `at <point> <id>` right before a
 * crash, and `instances done`; serves check-backs until SIGINT or SIGTERM.
 */
import { parseArgs } from 'node:util';
import { connectNats, natsSettingsFromEnv } from '@sagaflow/nats';
import { openBankApi } from './bank-api.js';
import { transferInput, type UpstreamCrash } from './bank-services.js';
import { stopRequested } from '../shared/stop-signal.js';

const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    namespace: { type: 'string' },
    nats: { type: 'string' },
    instances: { type: 'string' },
    parallel: { type: 'string', default: '8' },
    'crash-at': { type: 'string' },
  },
});
const crashAt = values['crash-at'] as UpstreamCrash | undefined;
const instances = values.instances === undefined || values.instances === '' ? [] : values.instances.split(',').map(Number);
const parallel = Number(values.parallel);
if (values.db === undefined || instances.some((n) => !Number.isInteger(n) || n < 0) || !(parallel >= 1) || (crashAt !== undefined && crashAt !== 'before-commit' && crashAt !== 'after-commit')) {
  process.stderr.write('usage: upstream.ts --db PATH [--namespace NS] [--nats URL] [--instances N,N,...] [--parallel N] [--crash-at before-commit|after-commit]\n');
  process.exit(2);
}
const say = (line: string): void => void process.stdout.write(`${line}\n`);

const connection = await connectNats({ ...natsSettingsFromEnv(), ...(values.nats === undefined ? {} : { url: values.nats }), name: 'money-transfer-upstream' });
const api = openBankApi(values.db, { connection, namespace: values.namespace });
const checkBacks = await api.serveCheckBacks();
say('upstream ready');

/** Kills the process (SIGKILL: no cleanup, no confirm or cancel) when `point` is where it is to crash. */
const crashIf = (point: string, transferId: string): void => {
  const due = (crashAt === 'before-commit' && point === 'marked') || (crashAt === 'after-commit' && point === 'committed');
  if (!due) return;
  say(`at ${crashAt} ${transferId}`);
  process.kill(process.pid, 'SIGKILL');
};

const queue = [...instances];
await Promise.all(
  Array.from({ length: Math.min(parallel, queue.length) }, async () => {
    for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
      const input = transferInput(n);
      const result = await api.transfer(input, (point) => crashIf(point, input.transferId));
      say(`transfer ${input.transferId} ${result.outcome}${'error' in result ? ` ${result.error}` : ''}`);
    }
  }),
);
say('instances done');

await stopRequested();
await checkBacks.stop();
await connection.drain();
api.close();
