/**
 * Scale figures of issue 8, item 3, in the deployment shape of `npm run bench` (a `nats-server -js`, the
 * engine as `sagaflow run --sagas bench/sagas --store sqlite:…`, bench/worker.ts as the worker):
 *
 *   1. Engine RSS. A fresh SQLite store is filled through the store API (`appendMany` in batches) with
 *      `--completed` finished bench-order instances (90% completed, 10% compensated) and `--in-flight`
 *      unfinished ones whose last step or compensation is dispatched and awaited (with its step timeout
 *      armed). Every history is produced by the real `decide` of @sagaflow/core on the bench saga: one
 *      template per shape, copied with the instance id and the timestamps substituted. The engine
 *      starts on that store with no worker, so nothing advances; its VmRSS (/proc/<pid>/status) is read
 *      once it is ready and after `--settle-s` seconds, with VmHWM (its peak).
 *   2. Recovery after kill -9. The engine is killed with SIGKILL and started again: the time from spawn
 *      to `resumed N instance(s)` and to `engine ready`; then a worker starts and the time until every
 *      in-flight instance has reached a terminal state (from the terminal status changes the engine
 *      publishes on `<ns>.evt.bench-order.<status>`, checked against the store at the end).
 *   3. `sagaflow list` (newest 100) over the resulting store, 3 runs, median.
 *
 * Where recovery time goes: the same work as the engine's `recover()` minus the transport — list the
 * unfinished instances in pages of 500, read each stream, decode, replay, compute the outstanding
 * effects — timed step by step in this process on a second store holding the same instances (the
 * finished ones copied before the in-flight ones were written, so the copy does not eat into their
 * 30 s step timeouts), with the V8 heap one replayed state takes. For reference, the engine's RSS on an
 * empty store is measured first.
 *
 *   npm run bench -- --only scale [--completed 100000 --in-flight 10000 --batch 2000 --settle-s 3 --heap-snapshot --out FILE]
 *
 * `--heap-snapshot`: after the RSS and the diagnostic report, engine 1 also writes a V8 heap snapshot
 * (`--heapsnapshot-signal`), summarised as its live heap and largest kinds of objects (adds ~15 s).
 *   npm run bench:scale [same options]
 *
 * Prints the figures against the targets of issue 8 and writes bench/results/<date>-scale.json.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as E from 'fp-ts/lib/Either.js';
import {
  createRegistry,
  decide,
  decodeStream,
  encodeEvent,
  isTerminal,
  outstandingEffects,
  replay,
  summaryOf,
  type AppendRequest,
  type Effect,
  type InstanceState,
  type InstanceSummary,
  type ReplyOutcome,
  type SagaStatus,
} from '@sagaflow/core';
import { connectNats } from '@sagaflow/nats';
import { openSqliteEventStore } from '@sagaflow/store-sqlite';
import { startNatsServer, type NatsServer } from '../examples/demo/nats-server.js';
import { repoRoot, sagaflowFromSources, spawnNode, stopChild, type Child } from '../examples/demo/processes.js';
import { median, procStatusMb } from './harness.js';
import { machineFacts, writeResultsFile } from './results-file.js';
import { reportFailure, tearDown } from './teardown.js';
import { summariseHeapSnapshot, type HeapSummary } from './heap-snapshot.js';
import benchOrder from './sagas/bench-order.saga.js';
import * as steps from './steps.js';
import { benchOf, readOptions, wholeNumber } from './options.js';

const usage = `
npm run bench -- --only scale [OPTIONS]    engine RSS, recovery after kill -9 and \`sagaflow list\` at scale

  --completed 100000   finished instances in the store
  --in-flight 10000    unfinished instances in the store, each awaiting a reply
  --batch 2000         instances per commit while filling the store
  --settle-s 3         seconds after the engine is ready before its RSS is read again
  --heap-snapshot      also write and summarise a V8 heap snapshot of the engine (adds ~15 s)
  --out FILE           where to write the results (default: bench/results/<date>-scale.json)
`;
const bench = benchOf('scale');
const { values } = readOptions(bench, usage, () =>
  parseArgs({
    args: process.argv.slice(2),
    options: {
      completed: { type: 'string', default: '100000' },
      'in-flight': { type: 'string', default: '10000' },
      batch: { type: 'string', default: '2000' },
      'settle-s': { type: 'string', default: '3' },
      'heap-snapshot': { type: 'boolean', default: false },
      out: { type: 'string' },
    },
  }),
);
const settings = {
  completed: wholeNumber(bench, 'completed', values.completed, 0),
  inFlight: wholeNumber(bench, 'in-flight', values['in-flight'], 1),
  batch: wholeNumber(bench, 'batch', values.batch, 1),
  settleS: wholeNumber(bench, 'settle-s', values['settle-s'], 0),
};
const saga = 'bench-order';
const registry = createRegistry([benchOrder]);
const dir = mkdtempSync(join(tmpdir(), 'sagaflow-scale-'));
const storePath = join(dir, 'sagaflow.db');
const children: Child[] = [];
let nats: NatsServer | null = null;
const round = (x: number, digits = 1): number => Number(x.toFixed(digits));
const loads = (): number[] => loadavg().map((x) => round(x, 2));
const log = (message: string): void => console.log(`${new Date().toISOString()} [scale] ${message}`);

// ---------------------------------------------------------------------------------------------
// Histories from the real decider: one template per shape, copied per instance.

const templateId = 'TEMPLATEID';
const templateT0 = 1_700_000_000_000;
/** Template timestamps are T0 + a few ms (+ 30 s for timeouts); they all match this and nothing else does. */
const templateTime = /17000000\d{5}/g;

interface Template {
  readonly events: readonly { type: string; json: string }[];
  readonly summary: InstanceSummary;
  /** ms from the first event to the last one. */
  readonly spanMs: number;
}

/**
 * Runs one bench-order instance through `decide`, answering its dispatches with the standard step
 * bodies (createShipment fails terminally when `failShipment`), and stops after `replies` answers
 * (Infinity: to the end).
 */
function template(failShipment: boolean, replies: number): Template {
  const order: steps.Order = { id: templateId, sku: 'sku-7', qty: 2, amount: 1007, failShipment };
  let state: InstanceState | null = null;
  const events: { type: string; json: string }[] = [];
  let now = templateT0;
  const apply = (input: Parameters<typeof decide>[2]): readonly Effect[] => {
    const decision = decide(registry, state, input, now);
    if (E.isLeft(decision)) throw new Error(`template: ${decision.left.message}`);
    state = decision.right.state;
    events.push(...decision.right.events.map(encodeEvent));
    return decision.right.effects;
  };
  let effects = apply({ type: 'start', saga, instanceId: templateId, input: order });
  for (let answered = 0; answered < replies; answered++) {
    const dispatch = effects.find((effect) => effect.type === 'dispatch');
    if (dispatch === undefined) break;
    now += 7;
    let outcome: ReplyOutcome;
    switch (dispatch.operation) {
      case 'reserveInventory':
        outcome = { ok: true, reply: steps.reserveInventory(order) };
        break;
      case 'chargePayment':
        outcome = { ok: true, reply: steps.chargePayment(order) };
        break;
      case 'createShipment':
        outcome = failShipment
          ? { ok: false, error: { code: 'ShipmentError', message: `shipment rejected for ${templateId}`, retryable: false } }
          : { ok: true, reply: steps.createShipment(order) };
        break;
      default:
        outcome = { ok: true };
    }
    effects = apply({ type: 'reply', effectId: dispatch.id, outcome });
  }
  if (state === null) throw new Error('template: no state');
  return { events, summary: summaryOf(state), spanMs: now - templateT0 };
}

/** The template's history for `instanceId`, started at `startedAt`. */
function copy(t: Template, instanceId: string, startedAt: number): AppendRequest {
  const shift = startedAt - templateT0;
  const rewrite = (json: string): string => json.split(templateId).join(instanceId).replace(templateTime, (ms) => String(Number(ms) + shift));
  return {
    instanceId,
    expectedRevision: -1,
    events: t.events.map((event) => ({ type: event.type, json: rewrite(event.json) })),
    summary: { ...t.summary, instanceId, startedAt: t.summary.startedAt + shift, updatedAt: t.summary.updatedAt + shift },
  };
}

async function fill(count: number, request: (i: number) => AppendRequest, path = storePath): Promise<void> {
  const store = openSqliteEventStore(path);
  try {
    for (let from = 0; from < count; from += settings.batch) {
      const results = await store.appendMany(Array.from({ length: Math.min(settings.batch, count - from) }, (_, k) => request(from + k)));
      const failed = results.find((result) => result instanceof Error);
      if (failed !== undefined) throw failed;
    }
  } finally {
    await store.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Process helpers.

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** ms between the engine's spawn and the ISO timestamp its log line starts with. */
const lineAt = (line: string, spawnedAtEpoch: number): number => Date.parse(line.slice(0, 24)) - spawnedAtEpoch;

interface EngineStart {
  child: Child;
  spawnToConnectingMs: number;
  spawnToResumedMs: number;
  spawnToReadyMs: number;
  resumedLine: string;
}

async function startEngine(natsUrl: string, namespace: string, path = storePath, nodeFlags: readonly string[] = []): Promise<EngineStart> {
  const spawnedEpoch = Date.now();
  const t0 = performance.now();
  const child = spawnNode([...nodeFlags, ...sagaflowFromSources, 'run', '--sagas', 'bench/sagas', '--store', `sqlite:${path}`, '--nats', natsUrl, '--namespace', namespace]);
  children.push(child);
  const ready = await child.waitFor(/engine ready/u, 120_000);
  const spawnToReadyMs = performance.now() - t0;
  const connecting = child.lines.find((line) => line.includes('connecting to NATS')) ?? '';
  const resumed = child.lines.find((line) => /\bresumed \d+ instance\(s\): /u.test(line)) ?? ready;
  return { child, spawnToConnectingMs: lineAt(connecting, spawnedEpoch), spawnToResumedMs: lineAt(resumed, spawnedEpoch), spawnToReadyMs, resumedLine: resumed.slice(25) };
}

/** Signals the engine to write a heap snapshot (SIGUSR1), waits until the file stops growing, and summarises it. */
async function heapSnapshotOf(child: Child, snapshotDir: string): Promise<HeapSummary | null> {
  child.process.kill('SIGUSR1');
  let lastSize = -1;
  for (let i = 0; i < 300; i++) {
    await sleep(250);
    const file = readdirSync(snapshotDir).find((name) => name.endsWith('.heapsnapshot'));
    if (file === undefined) continue;
    const size = statSync(join(snapshotDir, file)).size;
    if (size > 0 && size === lastSize) {
      try {
        return summariseHeapSnapshot(join(snapshotDir, file));
      } catch {
        // Not complete yet (the writer paused): wait for it to grow again.
      }
    }
    lastSize = size;
  }
  log('engine 1 heap snapshot: not written within 75 s');
  return null;
}

/** Samples the engine's VmRSS for `seconds` after it is ready. */
async function settle(
  pid: number | undefined,
  seconds: number,
): Promise<{ anonMb: number | null; fileMb: number | null; atReadyMb: number | null; settledMb: number | null; maxMb: number | null; hwmMb: number | null; samples: (number | null)[] }> {
  const samples: (number | null)[] = [procStatusMb(pid, 'VmRSS')];
  for (let waited = 0; waited < seconds * 1000; waited += 250) {
    await sleep(250);
    samples.push(procStatusMb(pid, 'VmRSS'));
  }
  const numbers = samples.filter((x): x is number => x !== null);
  return { anonMb: procStatusMb(pid, 'RssAnon'), fileMb: procStatusMb(pid, 'RssFile'), atReadyMb: samples[0] ?? null, settledMb: samples[samples.length - 1] ?? null, maxMb: numbers.length === 0 ? null : Math.max(...numbers), hwmMb: procStatusMb(pid, 'VmHWM'), samples };
}

// ---------------------------------------------------------------------------------------------
// The engine's recovery work without the transport, timed by part (on a copy of the store).

const gc = (): void => {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
};

async function recoveryBreakdown(path: string): Promise<Record<string, number>> {
  const store = openSqliteEventStore(path);
  const kept: InstanceState[] = [];
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const t = { listMs: 0, readMs: 0, decodeMs: 0, replayMs: 0, effectsMs: 0 };
  let instances = 0;
  let dispatches = 0;
  const t0 = performance.now();
  let after: { updatedAt: number; instanceId: string } | undefined;
  for (;;) {
    let s = performance.now();
    const page = await store.listInstances({ statuses: ['pending', 'running', 'compensating', 'stuck'], limit: 500, ...(after === undefined ? {} : { after }) });
    t.listMs += performance.now() - s;
    for (const summary of page) {
      s = performance.now();
      const recorded = await store.readStream(summary.instanceId);
      const s1 = performance.now();
      const events = decodeStream(recorded);
      const s2 = performance.now();
      if (E.isLeft(events)) throw new Error(events.left.message);
      const state = replay(registry, summary.instanceId, events.right);
      const s3 = performance.now();
      if (E.isLeft(state)) throw new Error(state.left.message);
      kept.push(state.right);
      dispatches += outstandingEffects(state.right).filter((effect) => effect.type === 'dispatch').length;
      const s4 = performance.now();
      t.readMs += s1 - s;
      t.decodeMs += s2 - s1;
      t.replayMs += s3 - s2;
      t.effectsMs += s4 - s3;
      instances++;
    }
    const last = page[page.length - 1];
    if (last === undefined || page.length < 500) break;
    after = { updatedAt: last.updatedAt, instanceId: last.instanceId };
  }
  const totalMs = performance.now() - t0;
  await store.close();
  gc();
  // What the engine's cache holds per unfinished instance: the replayed state (xstate snapshot, context, dispatches, timers).
  const heapPerStateKb = round((process.memoryUsage().heapUsed - heap0) / kept.length / 1024);
  kept.length = 0;
  return { instances, dispatches, heapPerStateKb, totalMs: round(totalMs), ...Object.fromEntries(Object.entries(t).map(([k, v]) => [k, round(v)])) };
}

// ---------------------------------------------------------------------------------------------

interface Line {
  target: string;
  value: number | null;
  unit: string;
  goal: number;
  verdict: string;
}
const line = (target: string, value: number | null, unit: string, goal: number): Line => ({
  target,
  value,
  unit,
  goal,
  verdict: value === null ? 'not measured' : value <= goal ? 'met' : `missed by ${round(value - goal, 2)}${unit} (${round(value / goal, 2)}× target)`,
});

let exitCode = 0;
try {
  const machine = machineFacts();
  log(`machine ${JSON.stringify(machine)}; settings ${JSON.stringify(settings)}; store ${storePath}`);

  // 0. NATS; the engine's RSS on an empty store, for reference.
  nats = await startNatsServer({});
  const natsUrl = nats.url;
  const empty = await startEngine(natsUrl, `scale0${Date.now().toString(36)}`, join(dir, 'empty.db'));
  const emptyRss = await settle(empty.child.process.pid, 1);
  await stopChild(empty.child);
  log(`engine on an empty store: ready after ${round(empty.spawnToReadyMs)} ms, VmRSS ${emptyRss.settledMb} MB, VmHWM ${emptyRss.hwmMb} MB`);

  // 1. Fill the store.
  const completedTemplates = { completed: template(false, Infinity), compensated: template(true, Infinity) };
  // In flight: awaiting reserveInventory (0 replies), chargePayment (1), createShipment (2), or refundPayment (3, failShipment).
  const inFlightTemplates = [0, 1, 2].flatMap((replies) => [template(false, replies), template(true, replies)]);
  const compensatingTemplate = template(true, 3);
  for (const t of [...inFlightTemplates, compensatingTemplate]) if (isTerminal(t.summary.status)) throw new Error('an in-flight template is terminal');
  const eventsPer = (t: Template): number => t.events.length;
  const day = 86_400_000;
  const fillStart = performance.now();
  const fillNow = Date.now();
  await fill(settings.completed, (i) => {
    const t = i % 10 === 9 ? completedTemplates.compensated : completedTemplates.completed;
    // Finished over the last 30 days, spread deterministically.
    return copy(t, `done-${String(i).padStart(7, '0')}`, fillNow - day - Math.floor((((i * 104_729) % 1_000_003) / 1_000_003) * 29 * day));
  });
  const completedFillMs = performance.now() - fillStart;
  // A copy with the finished instances only, for the in-process breakdown at the end (copied now, before the in-flight clock starts).
  const breakdownCopy = join(dir, 'breakdown.db');
  copyFileSync(storePath, breakdownCopy);
  const fillStart2 = performance.now();
  const inFlightIds = Array.from({ length: settings.inFlight }, (_, i) => `live-${String(i).padStart(6, '0')}`);
  const inFlightNow = Date.now();
  const inFlight = (i: number): AppendRequest => {
    const t = i % 10 === 9 ? compensatingTemplate : (inFlightTemplates[(i % 3) * 2 + (i % 5 === 0 ? 1 : 0)] ?? compensatingTemplate);
    // Started during the last second, so their step timeouts (30 s) are not due during a run of ~30 s; the store check at the end counts any that fired.
    return copy(t, inFlightIds[i] ?? '', inFlightNow - 1000 + Math.floor((i * 1000) / settings.inFlight) - t.spanMs);
  };
  const inFlightT0 = performance.now();
  await fill(settings.inFlight, inFlight);
  const fillMs = completedFillMs + performance.now() - fillStart2;
  const sizeMb = round(statSync(storePath).size / 2 ** 20, 0);
  const eventsTotal =
    Math.round(settings.completed * 0.9) * eventsPer(completedTemplates.completed) +
    Math.round(settings.completed * 0.1) * eventsPer(completedTemplates.compensated);
  log(
    `filled in ${round(fillMs / 1000, 2)} s (completed ${round(completedFillMs / 1000, 2)} s): ${settings.completed} finished instances ` +
      `(${eventsPer(completedTemplates.completed)} / ${eventsPer(completedTemplates.compensated)} events each, ~${eventsTotal} events) + ${settings.inFlight} in flight ` +
      `(${[...inFlightTemplates, compensatingTemplate].map(eventsPer).join('/')} events by shape); ${sizeMb} MB`,
  );

  // A subscription to terminal status changes (from the second engine on).
  const namespace = `scale${Date.now().toString(36)}`;
  const connection = await connectNats({ url: natsUrl, name: 'bench-scale' });
  const waiting = new Set(inFlightIds);
  const terminalStatuses: Record<string, number> = {};
  let lastTerminalAt = 0;
  let onTerminal: (() => void) | null = null;
  connection.subscribe(`${namespace}.evt.${saga}.>`, {
    callback: (error, msg) => {
      if (error !== null) return;
      const status = msg.subject.slice(msg.subject.lastIndexOf('.') + 1) as SagaStatus;
      if (!isTerminal(status) && status !== 'stuck') return;
      const { instanceId } = msg.json<{ instanceId: string }>();
      if (!waiting.delete(instanceId)) return;
      terminalStatuses[status] = (terminalStatuses[status] ?? 0) + 1;
      lastTerminalAt = performance.now();
      if (waiting.size === 0) onTerminal?.();
    },
  });
  await connection.flush();

  // 2. First engine: cold start on the filled store, no worker; RSS once ready and settled.
  log('engine 1: start on the filled store (no worker)');
  // --report-on-signal: a Node diagnostic report (V8 heap by space) on SIGUSR2, read once settled; no effect until signalled.
  const reportDir = join(dir, 'reports');
  mkdirSync(reportDir);
  const snapshotDir = join(dir, 'heap');
  mkdirSync(snapshotDir);
  const snapshotFlags = values['heap-snapshot'] ? ['--heapsnapshot-signal=SIGUSR1', `--diagnostic-dir=${snapshotDir}`] : [];
  const first = await startEngine(natsUrl, namespace, storePath, ['--report-on-signal', '--report-signal=SIGUSR2', `--report-directory=${reportDir}`, ...snapshotFlags]);
  log(`engine 1 ready after ${round(first.spawnToReadyMs)} ms; ${first.resumedLine}`);
  const rss = await settle(first.child.process.pid, settings.settleS);
  log(`engine 1 RSS: at ready ${rss.atReadyMb} MB, after ${settings.settleS} s ${rss.settledMb} MB (anon ${rss.anonMb}, file ${rss.fileMb}), max sampled ${rss.maxMb} MB, VmHWM ${rss.hwmMb} MB`);
  first.child.process.kill('SIGUSR2');
  let heap: Record<string, number> | null = null;
  for (let i = 0; i < 40 && heap === null; i++) {
    await sleep(100);
    const file = existsSync(reportDir) ? readdirSync(reportDir).find((name) => name.endsWith('.json')) : undefined;
    if (file === undefined) continue;
    try {
      const js = (JSON.parse(readFileSync(join(reportDir, file), 'utf8')) as { javascriptHeap: { totalMemory: number; usedMemory: number; heapSpaces: Record<string, { memorySize: number; used: number }> } }).javascriptHeap;
      const mb = (bytes: number): number => round(bytes / 2 ** 20);
      heap = { totalMb: mb(js.totalMemory), usedMb: mb(js.usedMemory), ...Object.fromEntries(Object.entries(js.heapSpaces).map(([space, v]) => [`${space}Mb`, mb(v.memorySize)])) };
    } catch {
      /* still being written */
    }
  }
  log(`engine 1 V8 heap (diagnostic report): ${JSON.stringify(heap)}`);
  const liveHeap = values['heap-snapshot'] ? await heapSnapshotOf(first.child, snapshotDir) : null;
  if (liveHeap !== null) log(`engine 1 live heap (heap snapshot, taken after a full GC): ${liveHeap.liveMb} MB; largest: ${liveHeap.top.slice(0, 6).map((k) => `${k.kind} ${k.mb} MB`).join(', ')}`);

  // 3. kill -9, restart, then a worker; time to terminal for all.
  first.child.process.kill('SIGKILL');
  await first.child.exited;
  log('engine 1 killed (SIGKILL); engine 2: start');
  const restartT0 = performance.now();
  const second = await startEngine(natsUrl, namespace);
  log(`engine 2 ready after ${round(second.spawnToReadyMs)} ms (resumed at ${second.spawnToResumedMs} ms, connecting at ${second.spawnToConnectingMs} ms); ${second.resumedLine}`);
  const rssReady2 = procStatusMb(second.child.process.pid, 'VmRSS');
  const workerT0 = performance.now();
  const worker = spawnNode(['--import', 'tsx', 'bench/worker.ts', '--nats', natsUrl, '--namespace', namespace]);
  children.push(worker);
  await worker.waitFor(/^worker ready$/u, 60_000);
  const workerReadyMs = performance.now() - workerT0;
  const allDone = new Promise<boolean>((resolve) => {
    if (waiting.size === 0) resolve(true);
    onTerminal = () => resolve(true);
    setTimeout(() => resolve(false), 120_000);
  });
  const finished = await allDone;
  const doneAt = finished ? lastTerminalAt : performance.now();
  const completion = {
    allTerminal: finished,
    notTerminal: waiting.size,
    statuses: terminalStatuses,
    workerSpawnToReadyMs: round(workerReadyMs),
    restartSpawnToAllTerminalS: round((doneAt - restartT0) / 1000, 2),
    workerSpawnToAllTerminalS: round((doneAt - workerT0) / 1000, 2),
    sagasPerS: round(settings.inFlight / ((doneAt - workerT0 - workerReadyMs) / 1000)),
  };
  log(`completion: ${JSON.stringify(completion)}; ${round((doneAt - inFlightT0) / 1000, 1)} s after the in-flight instances were written (their step timeouts are due after ~29 s)`);
  const rssDone2 = procStatusMb(second.child.process.pid, 'VmRSS');
  const hwm2 = procStatusMb(second.child.process.pid, 'VmHWM');
  await stopChild(worker);
  await stopChild(second.child);
  await connection.close();

  // The store's view: every in-flight instance finished, and how many needed more than one attempt.
  const store = openSqliteEventStore(storePath);
  let unfinished = 0;
  for (const status of ['pending', 'running', 'compensating', 'stuck'] as const) unfinished += (await store.listInstances({ statuses: [status], limit: 100_000 })).length;
  let retried = 0;
  for (const id of inFlightIds) if (((await store.getInstance(id))?.attempts ?? 0) > 1) retried++;
  await store.close();
  log(`store after: ${unfinished} unfinished instance(s); ${retried} in-flight instance(s) at attempt > 1 (a step timeout fired)`);

  // 4. `sagaflow list` over the store, and the recovery work without the transport.
  const listRuns = [0, 1, 2, 3].map(() => {
    const s = performance.now();
    execFileSync(process.execPath, [...sagaflowFromSources, 'list', '--store', `sqlite:${storePath}`], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
    return performance.now() - s;
  });
  const listMedianMs = round(median(listRuns.slice(1)));
  await fill(settings.inFlight, inFlight, breakdownCopy);
  const breakdown = await recoveryBreakdown(breakdownCopy);
  log(`recovery work in process (no transport): ${JSON.stringify(breakdown)}`);

  const loadAvgAtEnd = loads();
  const recoveryS = round(second.spawnToReadyMs / 1000, 2);
  const lines = [
    line(`engine RSS with ${settings.inFlight.toLocaleString('en')} in flight (+${settings.completed.toLocaleString('en')} finished in the store), settled ≤ 250 MB`, rss.settledMb, ' MB', 250),
    line('engine peak RSS (VmHWM) during that start ≤ 250 MB', rss.hwmMb, ' MB', 250),
    line(`recovery of ${settings.inFlight.toLocaleString('en')} in-flight instances after kill -9 (spawn → engine ready) ≤ 10 s`, recoveryS, ' s', 10),
    line('`sagaflow list` (newest 100) over this store ≤ 1 s', round(listMedianMs / 1000, 2), ' s', 1),
  ];
  const total = settings.completed + settings.inFlight;
  const report = [
    '',
    `store: ${total.toLocaleString('en')} instances (${settings.completed.toLocaleString('en')} finished, ${settings.inFlight.toLocaleString('en')} in flight), ${sizeMb} MB, filled in ${round(fillMs / 1000, 1)} s`,
    '',
    `engine on an empty store (reference): ready after ${round(empty.spawnToReadyMs)} ms, VmRSS ${emptyRss.settledMb} MB settled, VmHWM ${emptyRss.hwmMb} MB`,
    '',
    '| measure | engine 1 (fresh start, no worker) | engine 2 (after kill -9) |',
    '|---|---|---|',
    `| spawn → "connecting to NATS" | ${first.spawnToConnectingMs} ms | ${second.spawnToConnectingMs} ms |`,
    `| spawn → "resumed N instance(s)" | ${first.spawnToResumedMs} ms | ${second.spawnToResumedMs} ms |`,
    `| spawn → "engine ready" | ${round(first.spawnToReadyMs)} ms | ${round(second.spawnToReadyMs)} ms |`,
    `| recovery log | ${first.resumedLine} | ${second.resumedLine} |`,
    `| VmRSS at ready / settled (${settings.settleS} s) / VmHWM | ${rss.atReadyMb} / ${rss.settledMb} / ${rss.hwmMb} MB (settled: anon ${rss.anonMb}, file ${rss.fileMb}; V8 heap ${heap?.totalMb ?? '?'} MB, ${heap?.usedMb ?? '?'} MB used) | ${rssReady2} MB at ready; ${rssDone2} MB after all finished; VmHWM ${hwm2} MB |`,
    `| worker spawn → all ${settings.inFlight.toLocaleString('en')} terminal | | ${completion.workerSpawnToAllTerminalS} s (${JSON.stringify(completion.statuses)}; worker ready in ${completion.workerSpawnToReadyMs} ms; ${completion.sagasPerS} sagas/s after) |`,
    `| engine spawn → all terminal | | ${completion.restartSpawnToAllTerminalS} s |`,
    '',
    `recovery work in process, no transport (list pages of 500 → readStream → decode → replay → outstanding effects): ${breakdown.totalMs} ms for ${breakdown.instances} instances ` +
      `(list ${breakdown.listMs}, read ${breakdown.readMs}, decode ${breakdown.decodeMs}, replay ${breakdown.replayMs}, effects ${breakdown.effectsMs} ms); ` +
      `a replayed state holds ~${breakdown.heapPerStateKb} KB of V8 heap`,
    `\`sagaflow list\` over ${total.toLocaleString('en')} instances: median ${listMedianMs} ms of 3 (runs ${listRuns.map((x) => Math.round(x)).join(', ')} ms, first is a warm-up)`,
    '',
    '| target (issue 8) | value | verdict |',
    '|---|---|---|',
    ...lines.map((l) => `| ${l.target} | ${l.value === null ? '—' : `${l.value}${l.unit}`} | ${l.verdict} |`),
    '',
    `load average at start ${machine.loadAvgAtStart.join(' ')}, at end ${loadAvgAtEnd.join(' ')}`,
  ].join('\n');
  console.log(report);
  if (!finished || unfinished > 0) {
    exitCode = 1;
    console.error(`not every in-flight instance finished: ${waiting.size} without a terminal status change, ${unfinished} unfinished in the store`);
  }
  const out = writeResultsFile(values.out, '-scale', {
    when: new Date().toISOString(),
    command: `npm run bench -- --only scale ${process.argv.slice(2).join(' ')}`.trim(),
    machine,
    settings,
    store: { instances: total, sizeMb, fillS: round(fillMs / 1000, 2) },
    emptyEngine: { spawnToReadyMs: round(empty.spawnToReadyMs), rss: emptyRss },
    engine1: { ...first, child: undefined, rss, heap, liveHeap },
    engine2: { ...second, child: undefined, rssAtReadyMb: rssReady2, rssAfterAllFinishedMb: rssDone2, hwmMb: hwm2 },
    completion,
    storeAfter: { unfinished, inFlightRetried: retried },
    list: { medianMs: listMedianMs, runsMs: listRuns.map((x) => round(x)) },
    recoveryBreakdown: breakdown,
    targets: lines,
    loadAvgAtEnd,
  });
  console.log(`wrote ${out}`);
} catch (error) {
  exitCode = 1;
  reportFailure(error, children);
} finally {
  await tearDown(children, nats, dir);
}
process.exit(exitCode);
