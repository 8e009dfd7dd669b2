/**
 * The worker of the CLI tests' saga (test/fixtures/cli-sagas/cli-repair.saga.ts).
 * Usage: cli-worker.ts --flags DIR [--namespace NS] [--nats URL]
 * `release` fails (retryably) for an input with `compensationFails` until the file `<DIR>/<key>.fixed`
 * exists: the test "fixes the cause" by creating it. Prints `worker ready`; stops on SIGINT/SIGTERM.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connectNats } from '@sagaflow/nats';
import { createWorker, StepFailure } from '@sagaflow/worker';
import cliRepair, { charge, reserve } from '../fixtures/cli-sagas/cli-repair.saga.js';
import { serveUntilStopped } from '../../examples/shared/stop-signal.js';

const { values } = parseArgs({ options: { flags: { type: 'string' }, namespace: { type: 'string' }, nats: { type: 'string' } } });
if (values.flags === undefined) {
  process.stderr.write('usage: cli-worker.ts --flags DIR [--namespace NS] [--nats URL]\n');
  process.exit(2);
}
const flags = values.flags;
const connection = await connectNats({ ...(values.nats === undefined ? {} : { url: values.nats }), name: 'cli-test-worker' });
const worker = createWorker({ connection, saga: cliRepair, ...(values.namespace === undefined ? {} : { namespace: values.namespace }), consumer: { ackWaitMs: 2_000 } });

worker.step(reserve, (command) => ({ reservationId: `res-${command.key}` }));
worker.compensation(reserve, (command) => {
  if (command.fails && !existsSync(join(flags, `${command.key}.fixed`))) throw new StepFailure('RefundServiceDown', 'the refund service is down', { retryable: true });
});
worker.step(charge, async (command, ctx) => {
  switch (command.mode) {
    case 'decline':
      throw new StepFailure('Declined', 'card declined');
    case 'flaky':
      if (ctx.effect.attempt === 1) throw new StepFailure('Busy', 'payment provider busy', { retryable: true });
      return { paymentId: `pay-${command.key}` };
    case 'hang':
      // Never answers: the instance waits (its timeout is long). On stop, hand the command back.
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
      throw new Error('worker stopping');
    case 'ok':
      return { paymentId: `pay-${command.key}` };
  }
});

await serveUntilStopped(worker, () => connection.drain());
