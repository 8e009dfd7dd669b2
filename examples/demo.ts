/**
 * `npm run demo`: Sagaflow deployed as in production, on one machine. The engine (`sagaflow run`,
 * embedded SQLite store) and the order services' workers (one process each, each with its own
 * SQLite database and idempotency barrier) talk over NATS JetStream; this process only sends start
 * requests and watches instances finish. 20% of payments are declined (compensated), 10% of
 * shipments fail twice before succeeding (retried), and the payment worker is killed with SIGKILL
 * at 40% and restarted. Ends with a summary read back from the event log and the services'
 * databases; exits 0 when every saga ended as its injected failures dictate, 1 otherwise, 130 on Ctrl-C.
 *
 * Options: --count N (default 1000), --concurrency N (sagas in flight, default 100),
 *          --dir PATH (store and service databases, emptied first; default .sagaflow/demo).
 * NATS: NATS_URL if a server answers there (default nats://127.0.0.1:4222), else a nats-server
 * child (NATS_SERVER_BIN or PATH) with a temporary JetStream directory.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { constants } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { EventStore } from '@sagaflow/core';
import { connectNats, naming, natsSettingsFromEnv, requestStart } from '@sagaflow/nats';
import { openSqliteEventStore } from '@sagaflow/store-sqlite';
import { startEngine, startWorker, type Rendezvous } from './demo/deployment.js';
import { natsForDemo, NoNatsError } from './demo/nats-for-demo.js';
import type { NatsServer } from './demo/nats-server.js';
import { readOutcomes } from './demo/outcomes.js';
import { isRunning, type Child } from './demo/processes.js';
import { Progress, type Tally } from './demo/progress.js';
import { Shutdown } from './demo/shutdown.js';
import { formatSummary } from './demo/summary.js';
import { watchFinished } from './demo/watch-finished.js';
import { orderExample, type OrderService } from './order-fulfilment/order-example.js';
import { orderPlan } from './order-fulfilment/order-services.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '100' },
    dir: { type: 'string', default: join('.sagaflow', 'demo') },
  },
});
const count = Number(values.count);
const concurrency = Number(values.concurrency);
if (!Number.isInteger(count) || count < 1 || !Number.isInteger(concurrency) || concurrency < 1) {
  process.stderr.write('demo: --count and --concurrency must be positive integers\n');
  process.exit(2);
}

/** The worker killed (SIGKILL) and restarted mid-run, and when. */
const victim: OrderService = 'payment';
const killAt = Math.ceil(count * 0.4);
/** Commands a killed worker had taken come back after this long (the consumers' ack wait). */
const ackWaitMs = 2000;
/** No saga finishing for this long means something is broken: stop and say so. */
const stallMs = 60_000;

const say = (line: string): void => {
  if (process.stdout.writable) process.stdout.write(`${line}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));
const tail = (child: Child): string => child.stderr.join('').trim().split('\n').slice(-15).join('\n');

const shutdown = new Shutdown();
let interrupted: NodeJS.Signals | null = null;
const exitCodeOf = (signal: NodeJS.Signals): number => 128 + (constants.signals[signal] ?? 1);
const onSignal = (signal: NodeJS.Signals): void => {
  if (interrupted !== null) {
    shutdown.kill(); // a second Ctrl-C: no more patience
    return;
  }
  interrupted = signal;
  say(`\n${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping the workers, the engine and NATS…`);
  void shutdown.run(5000).then(() => process.exit(exitCodeOf(signal)));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
// Output piped into a program that went away (`npm run demo | head`): stop as for Ctrl-C.
process.stdout.on('error', () => {
  if (interrupted === null) onSignal('SIGPIPE');
});
// Whatever goes wrong, no process of the demo outlives it.
const crash = (error: unknown): void => {
  process.stderr.write(`\ndemo: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  void shutdown.run(2000).then(() => process.exit(1));
};
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);
process.on('exit', () => shutdown.kill());

async function main(): Promise<number> {
  const dir = resolve(values.dir);
  const inside = relative(process.cwd(), dir);
  const shown = inside === '' ? '.' : inside.startsWith('..') ? dir : inside;
  const storePath = join(dir, 'sagaflow.db');
  const storeUrl = `sqlite:${join(shown, 'sagaflow.db')}`;
  const dbOf = (service: string): string => join(dir, `${service}.db`);
  say(`Sagaflow demo: ${count.toLocaleString('en-US')} order-fulfilment sagas (reserve stock → charge the card → ship), engine and workers as separate processes over NATS JetStream.`);
  say(`Injected failures: 20% of payments declined (→ compensated), 10% of shipments fail twice (→ retried), the ${victim} worker killed (SIGKILL) at 40% and restarted.`);

  const nats = await natsForDemo((starting) => {
    let started: NatsServer | null = null;
    void starting.then((server) => (started = server)).catch(() => undefined);
    shutdown.add(
      async () => {
        const server = await starting.catch(() => null);
        await server?.stop();
        server?.remove();
      },
      () => {
        void started?.kill();
        started?.remove();
      },
    );
  });
  say(`  NATS: ${nats.description}`);

  mkdirSync(dir, { recursive: true });
  for (const name of ['sagaflow.db', ...orderExample.services.map((service) => `${service}.db`)]) {
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, name + suffix), { force: true });
  }
  const namespace = `demo-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const names = naming(namespace);
  say(`  event store: ${storeUrl} (SQLite, fresh); services' databases: ${join(shown, '{inventory,payment,shipping}.db')}; namespace: ${namespace}`);

  const rendezvous: Rendezvous = { natsUrl: nats.url, namespace, detached: true, track: (child) => shutdown.track(child) };
  const booting = performance.now();
  const engine = await startEngine({ ...rendezvous, storePath, ackWaitMs });
  const workers = new Map<OrderService, Child>();
  const launch = async (service: OrderService): Promise<void> => {
    workers.set(service, await startWorker(orderExample, { ...rendezvous, service, db: dbOf(service), args: ['--ack-wait-ms', String(ackWaitMs)] }));
  };
  await Promise.all(orderExample.services.map(launch));
  say(`  started the engine (sagaflow run, pid ${engine.process.pid}) and ${workers.size} workers (${[...workers].map(([service, child]) => `${service} pid ${child.process.pid}`).join(', ')}) in ${((performance.now() - booting) / 1000).toFixed(1)} s`);
  say('');

  const connection = await connectNats({ ...natsSettingsFromEnv(), url: nats.url, name: 'sagaflow-demo' });
  shutdown.add(async () => {
    if (nats.own === null) {
      // A server the demo did not start: leave nothing behind in it.
      const jsm = await jetstreamManager(connection);
      for (const stream of Object.values(names.streams)) await jsm.streams.delete(stream).catch(() => false);
    }
    await connection.close();
  });
  let store: EventStore | null = null;
  shutdown.add(() => store?.close());
  const openStore = (): EventStore => (store ??= openSqliteEventStore(storePath));

  const progress = new Progress(count);
  let wake: () => void = () => undefined;
  let lastFinishAt = performance.now();
  const watch = await watchFinished(connection, names, orderExample.saga, (finished) => {
    lastFinishAt = performance.now();
    progress.update(tally(finished));
    wake();
  });
  shutdown.add(() => watch.stop());

  const restartVictim = async (): Promise<string> => {
    const killed = workers.get(victim);
    if (killed === undefined) throw new Error(`no ${victim} worker to kill`);
    const at = watch.finished.size;
    killed.process.kill('SIGKILL');
    await killed.exited;
    const down = performance.now();
    progress.note(`✗ killed the ${victim} worker (SIGKILL, pid ${killed.process.pid}) at ${at}/${count}: the commands it had taken stay unacknowledged in JetStream`);
    await sleep(500);
    await launch(victim);
    const seconds = ((performance.now() - down) / 1000).toFixed(1);
    progress.note(`↻ restarted the ${victim} worker (pid ${workers.get(victim)?.process.pid}) after ${seconds} s: JetStream redelivers those commands once their ${ackWaitMs / 1000} s ack wait is over`);
    return `the ${victim} worker was killed (SIGKILL) at ${at.toLocaleString('en-US')}/${count.toLocaleString('en-US')} and back ${seconds} s later`;
  };

  const js = jetstream(connection);
  const began = performance.now();
  let requested = 0;
  let restart: Promise<string> | null = null;
  const restartFailure: { error: Error | null } = { error: null };
  let checkedAt = performance.now();
  while (watch.finished.size < count && !shutdown.closing) {
    const room = Math.min(count - requested, concurrency - (requested - watch.finished.size));
    if (room > 0) {
      const batch = Array.from({ length: room }, (_, i) => requested + i);
      await Promise.all(batch.map((n) => requestStart(js, names, { saga: orderExample.saga, instanceId: orderExample.instanceId(n), input: orderExample.input(n) })));
      requested += room;
    }
    if (restart === null && watch.finished.size >= killAt) {
      restart = restartVictim();
      restart.catch((error: unknown) => (restartFailure.error = error instanceof Error ? error : new Error(String(error))));
    }
    if (restartFailure.error !== null) throw new Error(`could not restart the ${victim} worker: ${restartFailure.error.message}`);
    if (!isRunning(engine)) throw new Error(`the engine exited unexpectedly:\n${tail(engine)}`);
    const quiet = performance.now() - lastFinishAt;
    if (quiet > 1000 && performance.now() - checkedAt > 1000) {
      // Status announcements are best effort: after a quiet second, ask the event log.
      checkedAt = performance.now();
      await watch.reconcile(openStore(), Array.from({ length: requested }, (_, n) => orderExample.instanceId(n)));
      if (quiet > stallMs) throw new Error(`no saga finished for ${stallMs / 1000} s (${watch.finished.size}/${count} done); engine stderr:\n${tail(engine)}`);
    }
    await new Promise<void>((done) => {
      wake = done;
      setTimeout(done, 250);
    });
  }
  if (shutdown.closing) return exitCodeOf(interrupted ?? 'SIGINT');
  const seconds = (lastFinishAt - began) / 1000;
  const restarted = restart === null ? null : await restart;
  progress.update(tally(watch.finished));
  progress.end();

  // Stop everything first: the summary reads the log and the services' databases at rest.
  await shutdown.run();
  const readStore = openSqliteEventStore(storePath);
  const outcomes = await readOutcomes(orderExample, readStore, orderExample.services.map(dbOf), count);
  await readStore.close();
  const first = (wanted: (n: number) => boolean): string => orderExample.instanceId(Array.from({ length: count }, (_, n) => n).find((n) => n > 0 && wanted(n)) ?? 0);
  say(
    formatSummary(outcomes, {
      count,
      seconds,
      storeUrl,
      examples: { compensated: first(orderPlan.paymentDeclined), retried: first(orderPlan.shipmentFailsTwice) },
      restart: restarted,
    }),
  );
  return outcomes.problems.length === 0 ? 0 : 1;
}

/** Finished instances by status, for the progress bar. */
function tally(finished: ReadonlyMap<string, string>): Tally {
  const counts = { done: finished.size, completed: 0, compensated: 0, stuck: 0 };
  for (const status of finished.values()) if (status === 'completed' || status === 'compensated' || status === 'stuck') counts[status] += 1;
  return counts;
}

let code: number;
try {
  code = await main();
} catch (error) {
  const message = error instanceof NoNatsError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
  if (interrupted === null) process.stderr.write(`\ndemo: ${message}\n`);
  code = interrupted === null ? 1 : exitCodeOf(interrupted);
}
await shutdown.run();
process.exit(interrupted === null ? code : exitCodeOf(interrupted));
