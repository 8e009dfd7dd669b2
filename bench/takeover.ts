/**
 * Takeover time of engines sharing a namespace: `--engines` compiled engines (`sagaflow run`, one SQLite
 * store file, lease TTL `--lease-ttl-ms`) and the bench worker under a steady load of bench-order sagas
 * (`--rate` starts a second). Each round kills one engine (SIGKILL) and measures, from the kill:
 *   - the first decision for an instance of its partitions (the first event the store recorded for one
 *     after the kill): what the engine's customers wait;
 *   - until every one of its partitions is held by another engine (the namespace's leases, as `sagaflow
 *     cluster` reads them);
 * then starts it again (a new engine id) and waits until the shares are even again. At the end the load
 * stops and every saga started must complete.
 *
 *   npm run bench -- --only takeover [--rounds 3 --engines 2 --lease-ttl-ms 10000 --rate 100 --warm-s 3 --out FILE]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { partitionOf } from '@sagaflow/core';
import { connectNats, naming, readClusterView, requestStart, type ClusterView } from '@sagaflow/nats';
import { openSqliteEventStore } from '@sagaflow/store-sqlite';
import { startNatsServer, type NatsServer } from '../examples/demo/nats-server.js';
import { spawnNode, stopChild, type Child } from '../examples/demo/processes.js';
import { engineCommand, prepareCompiledEngine } from './engine-build.js';
import { median } from './harness.js';
import { benchOf, readOptions, wholeNumber } from './options.js';
import { machineFacts, writeResultsFile } from './results-file.js';
import { makeOrder } from './steps.js';
import { reportFailure, tearDown } from './teardown.js';

const usage = `
npm run bench -- --only takeover [OPTIONS]    how long a killed engine's partitions wait for another engine

  --rounds 3             engines killed, one per round (each then started again)
  --engines 2            engines sharing the namespace (at least 2)
  --lease-ttl-ms 10000   the namespace's lease TTL
  --rate 100             sagas started per second, throughout
  --warm-s 3             seconds of load before each kill
  --out FILE             where to write the results (default: bench/results/<date>-takeover.json)
`;
const bench = benchOf('takeover');
const { values } = readOptions(bench, usage, () =>
  parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      engines: { type: 'string', default: '2' },
      'lease-ttl-ms': { type: 'string', default: '10000' },
      rate: { type: 'string', default: '100' },
      'warm-s': { type: 'string', default: '3' },
      out: { type: 'string' },
    },
  }),
);
const settings = {
  rounds: wholeNumber(bench, 'rounds', values.rounds, 1),
  engines: wholeNumber(bench, 'engines', values.engines, 2),
  leaseTtlMs: wholeNumber(bench, 'lease-ttl-ms', values['lease-ttl-ms'], 2000),
  rate: wholeNumber(bench, 'rate', values.rate, 1),
  warmS: wholeNumber(bench, 'warm-s', values['warm-s'], 0),
};

const dir = mkdtempSync(join(tmpdir(), 'sagaflow-takeover-'));
const storePath = join(dir, 'sagaflow.db');
const namespace = `takeover${Date.now().toString(36)}`;
const names = naming(namespace);
const children: Child[] = [];
let nats: NatsServer | null = null;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function startEngine(natsUrl: string, id: string): Promise<Child> {
  const command = engineCommand('compiled');
  const args = ['run', '--sagas', command.sagas, '--store', `sqlite:${storePath}`, '--nats', natsUrl, '--namespace', namespace, '--engine-id', id];
  const engine = spawnNode([...command.node, ...args, '--lease-ttl-ms', String(settings.leaseTtlMs)]);
  children.push(engine);
  return engine.waitFor(/engine ready/u, 60_000).then(() => engine);
}

async function view(connection: NatsConnection): Promise<ClusterView> {
  const seen = await readClusterView(jetstream(connection), await jetstreamManager(connection), names);
  if (seen === null) throw new Error('the namespace has no partitions');
  return seen;
}

/** Waits until `alive` hold every partition within one of an even share; how long it took, in ms. */
async function balanced(connection: NatsConnection, alive: readonly string[]): Promise<number> {
  const started = Date.now();
  for (;;) {
    const seen = await view(connection);
    const shares = alive.map((id) => seen.partitions.filter((partition) => partition.owner === id).length);
    if (seen.partitions.every((partition) => partition.owner !== null && alive.includes(partition.owner)) && Math.max(...shares) - Math.min(...shares) <= 1) return Date.now() - started;
    if (Date.now() - started > 120_000) throw new Error(`the engines ${alive.join(', ')} did not share the partitions within 120 s`);
    await sleep(100);
  }
}

/** Starts `rate` sagas a second until stopped; the ids started. */
function steadyLoad(connection: NatsConnection): { stop(): Promise<string[]> } {
  const js = jetstream(connection);
  const started: string[] = [];
  let stopped = false;
  const running = (async () => {
    for (let second = 0; !stopped; second++) {
      const tick = Date.now();
      await Promise.all(
        Array.from({ length: settings.rate }, (_, i) => {
          const order = makeOrder('takeover', second * settings.rate + i, false);
          started.push(order.id);
          return requestStart(js, names, { saga: 'bench-order', instanceId: order.id, input: order });
        }),
      );
      await sleep(Math.max(0, 1000 - (Date.now() - tick)));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await running;
      return started;
    },
  };
}

let exitCode = 0;
try {
  let natsUrl = process.env.NATS_URL ?? '';
  if (natsUrl === '') {
    nats = await startNatsServer();
    natsUrl = nats.url;
  }
  prepareCompiledEngine();
  const connection = await connectNats({ url: natsUrl, name: 'takeover-driver' });
  console.log(`machine: ${JSON.stringify(machineFacts())}; settings: ${JSON.stringify(settings)}`);
  const alive: { id: string; child: Child }[] = [];
  for (let n = 1; n <= settings.engines; n++) alive.push({ id: `engine-${n}`, child: await startEngine(natsUrl, `engine-${n}`) });
  const worker = spawnNode(['--import', 'tsx', 'bench/worker.ts', '--nats', natsUrl, '--namespace', namespace]);
  children.push(worker);
  await worker.waitFor(/^worker ready$/u, 60_000);
  await balanced(connection, alive.map((engine) => engine.id));
  const store = openSqliteEventStore(storePath);
  const { partitions } = (await view(connection)).config;
  const load = steadyLoad(connection);
  const rounds: { victim: string; partitions: number; firstDecisionMs: number; allTakenMs: number; rebalancedMs: number }[] = [];
  let cursor = -1;
  for (let round = 0; round < settings.rounds; round++) {
    await sleep(settings.warmS * 1000);
    const at = round % alive.length;
    const victim = alive[at];
    if (victim === undefined) break;
    const held = new Set((await view(connection)).partitions.filter((partition) => partition.owner === victim.id).map((partition) => partition.partition));
    for (let page = await store.readAll(cursor, 5000); page.length > 0; page = await store.readAll(cursor, 5000)) cursor = page[page.length - 1]?.position ?? cursor;
    victim.child.process.kill('SIGKILL');
    const killedAt = Date.now();
    await victim.child.exited;
    alive.splice(at, 1);
    const others = alive.map((engine) => engine.id);
    let firstDecisionMs: number | null = null;
    let allTakenMs: number | null = null;
    while (firstDecisionMs === null || allTakenMs === null) {
      for (const event of await store.readAll(cursor, 5000)) {
        cursor = event.position;
        if (firstDecisionMs === null && event.recordedAt >= killedAt && held.has(partitionOf(event.instanceId, partitions))) {
          firstDecisionMs = event.recordedAt - killedAt;
        }
      }
      if (allTakenMs === null) {
        const seen = await view(connection);
        if ([...held].every((partition) => others.includes(seen.partitions[partition]?.owner ?? ''))) allTakenMs = Date.now() - killedAt;
      }
      if (Date.now() - killedAt > 120_000) throw new Error(`round ${round + 1}: no takeover within 120 s`);
      await sleep(20);
    }
    const restartedId = `${victim.id}-r${round + 1}`;
    alive.splice(at, 0, { id: restartedId, child: await startEngine(natsUrl, restartedId) });
    const rebalancedMs = await balanced(connection, alive.map((engine) => engine.id));
    rounds.push({ victim: victim.id, partitions: held.size, firstDecisionMs, allTakenMs, rebalancedMs });
    console.log(`round ${round + 1}: killed ${victim.id} (${held.size} partitions): first decision by a new owner after ${firstDecisionMs} ms, all its partitions held by others after ${allTakenMs} ms; restarted, even again ${rebalancedMs} ms later`);
  }
  const started = await load.stop();
  const deadline = Date.now() + 120_000;
  let unfinished = started.length;
  while (unfinished > 0 && Date.now() < deadline) {
    unfinished = (await Promise.all(started.map((id) => store.getInstance(id)))).filter((row) => row?.status !== 'completed').length;
    if (unfinished > 0) await sleep(500);
  }
  await store.close();
  await connection.close();
  const table = [
    '',
    `| round | engine killed | its partitions | kill → first decision by a new owner, ms | kill → all its partitions held, ms | restarted → even again, ms |`,
    '|---|---|---|---|---|---|',
    ...rounds.map((r, i) => `| ${i + 1} | ${r.victim} | ${r.partitions} | ${r.firstDecisionMs} | ${r.allTakenMs} | ${r.rebalancedMs} |`),
    '',
    `median kill → first decision: ${median(rounds.map((r) => r.firstDecisionMs))} ms (lease TTL ${settings.leaseTtlMs} ms); sagas started ${started.length}, not completed ${unfinished}`,
  ].join('\n');
  console.log(table);
  if (unfinished > 0) throw new Error(`${unfinished} of ${started.length} sagas did not complete`);
  const out = writeResultsFile(values.out, '-takeover', { when: new Date().toISOString(), command: `npm run bench -- --only takeover ${process.argv.slice(2).join(' ')}`.trim(), machine: machineFacts(), settings, rounds, sagas: started.length });
  console.log(`wrote ${out}`);
} catch (error) {
  exitCode = 1;
  reportFailure(error, children);
} finally {
  for (const child of children) if (child.process.exitCode === null) await stopChild(child, 5000);
  await tearDown([], nats, dir);
}
process.exit(exitCode);
