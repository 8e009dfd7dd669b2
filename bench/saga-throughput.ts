/**
 * `npm run bench`: the standard saga workload (see ../shared/peers and issue 8) through the real
 * deployment shape, next to a transport baseline, in one run.
 *
 *   - a `nats-server -js` on a free port with a temporary store directory and its monitoring endpoint, whose
 *     counters give the messages and bytes per saga of every run (or the server at NATS_URL, without them);
 *   - the engine, `sagaflow run` on a fresh SQLite store (or `--store URL`), compiled as a team installs it
 *     (and with `--only …,sagaflow-tsx` a second one run from its TypeScript sources through tsx; see
 *     engine-build.ts);
 *   - one worker process (bench/worker.ts, compiled like the engine, or through tsx beside the tsx engine) serving
 *     the 5 operations of bench-order with in-memory bodies;
 *   - this process as the driver: it publishes start requests (`requestStart`, JetStream) and takes a
 *     saga's latency from the start call to its terminal status change on `<ns>.evt.bench-order.<status>`,
 *     which the engine publishes after the event that ends the instance is committed to the store.
 *
 * Beside it the transport baseline (bench/transport-baseline.ts: relay + echo processes, the same JetStream
 * round trips per saga with no engine) under the same driver, workloads and concurrency. All are started
 * first, then their runs alternate, so each Sagaflow run has a baseline run made under the same conditions.
 *
 * Options: `usage` below, printed by `npm run bench -- --help`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, naming, pingEngine, readClusterView, requestStart } from '@sagaflow/nats';
import { freePort, startNatsServer, type NatsServer } from '../examples/demo/nats-server.js';
import { repoRoot, spawnNode, spawnTs, stopChild, type Child } from '../examples/demo/processes.js';
import { compiledWorker, engineCommand, prepareCompiledEngine, type EngineBuild } from './engine-build.js';
import { cpuMsPerSaga, median, procStatusMb, runSeries, type LoopCounters, type NatsTraffic, type RunResult, type Series, type StartSaga, type System } from './harness.js';
import { reportFailure, tearDown } from './teardown.js';
import { StageWatch, type StageReport } from './saga-stages.js';
import { benchOf, listOf, oneOf, readOptions, refuse, wholeNumber } from './options.js';
import { machineFacts, writeResultsFile } from './results-file.js';
import { peersFromFiles, readmePeers, type PeerFigures } from './peers.js';
import { measureCommitFloor, type CommitFloor } from './commit-floor.js';
import { curveTable, targetLines, type CurvePoint } from './targets.js';
import { instanceIdForms, type Order } from './steps.js';

const usage = `
npm run bench [-- OPTIONS]    the standard saga workload through Sagaflow and the transport baseline

  --workloads W1,W2          workloads to run (W1: all steps succeed; W2: createShipment fails, 2 compensations)
  --n 2000                   sagas per run at --concurrency in flight, after --warmup more
  --concurrency 100          sagas kept in flight
  --runs 3                   runs per workload; the table gives their medians
  --warmup 200               sagas run before each series, not measured
  --deadlineS 60             seconds a run may take before it is reported as failed
  --ids sequential           instance ids: sequential (<run>-<n>, as the peers' harness names them) or uuid (random)
  --c1-n 300                 sagas per concurrency-1 run (0: no concurrency-1 runs)
  --c1-warmup 50 --c1-runs 3 warm-up and runs at concurrency 1
  --stages                   one more concurrency-1 run per workload, watched to split its latency by stage
  --store URL                the engine's store (default: a fresh SQLite file; esdb://host:2113?tls=false for EventStoreDB)
  --worker-concurrency N     the worker's command slots (default: the worker SDK's, 100)
  --worker-prefetch N        commands the worker may pull ahead of its handlers (default: the worker SDK's, three times its concurrency)
  --partitions N             partitions of the bench's namespaces (default: the engine's, 32)
  --engines N                also run Sagaflow with N engines sharing the namespace (and one worker),
                             alternating with the one-engine runs (default 1: no such runs)
  --only sagaflow,baseline   which deployments to run: sagaflow (the engine compiled, as installed),
                             sagaflow-tsx (the engine from its TypeScript sources through tsx), baseline
  --curve 10,100,1000,5000   after the series, one Sagaflow run per workload at each of these many in flight
                             (N = the larger of --n and twice the level), with the engine's peak RSS; none: no curve
  --against DIR              also run Sagaflow (engine and bench worker, compiled) from the checkout at DIR
                             (an earlier commit, its npm ci done), alternating with this one: before/after
  --heap-growth PERCENT      run this checkout's engine with sagaflow run --heap-growth PERCENT (1 to 1000)
  --cpu-prof DIR             CPU profiles of the engine and the worker, written to DIR
  --peers FILE,...           results of ../shared/peers run alongside, for the "vs best peer" column
  --quick                    smoke run: N=300, warm-up 50, 1 run, concurrency-1 N=50, no curve
  --out FILE                 where to write the results (default: bench/results/<date>.json)

Benches of their own (their options with --help after them):
  --telemetry off,metrics,traces-noop,traces-otlp
                             instead of the deployments above: the compiled engine once per variant
                             (metrics served and scraped every second; spans recorded and dropped;
                             spans exported over OTLP/HTTP), measured alternating; prints the cost of each

  npm run bench -- --only list       \`sagaflow list\` over 100,000 instances (bench/list-instances.ts)
  npm run bench -- --only scale      engine RSS and recovery at scale (bench/scale.ts)
  npm run bench -- --only decision   CPU per saga of the pure decision path (bench/decision-path.ts)
  npm run bench -- --only append     CPU per saga of the SQLite store's appends (bench/store-append.ts)
  npm run bench -- --only takeover   how long a killed engine's partitions wait for another (bench/takeover.ts)
  npm run bench -- --only console    the console's list API and first paint over 100,000 instances (bench/console.ts)
`;

const argv = process.argv.slice(2);
const sideBenches: Readonly<Record<string, string>> = {
  list: 'bench/list-instances.ts',
  scale: 'bench/scale.ts',
  decision: 'bench/decision-path.ts',
  append: 'bench/store-append.ts',
  takeover: 'bench/takeover.ts',
  console: 'bench/console.ts',
};
const onlyAt = argv.findIndex((arg) => arg === '--only' || arg.startsWith('--only='));
const onlyArg = argv[onlyAt] ?? '';
const only = onlyArg.startsWith('--only=') ? onlyArg.slice('--only='.length) : argv[onlyAt + 1];
const sideBench = only !== undefined && Object.hasOwn(sideBenches, only) ? sideBenches[only] : undefined;
if (sideBench !== undefined) {
  const rest = argv.filter((_, index) => index !== onlyAt && (onlyArg.startsWith('--only=') || index !== onlyAt + 1));
  const ran = spawnSync(process.execPath, ['--import', 'tsx', sideBench, ...rest], { cwd: repoRoot, stdio: 'inherit' });
  process.exit(ran.status ?? 1);
}

const bench = benchOf();
const { values } = readOptions(bench, usage, () =>
  parseArgs({
    args: argv,
    options: {
      workloads: { type: 'string', default: 'W1,W2' },
      n: { type: 'string' },
      concurrency: { type: 'string' },
      runs: { type: 'string' },
      warmup: { type: 'string' },
      deadlineS: { type: 'string' },
      ids: { type: 'string', default: 'sequential' },
      'c1-n': { type: 'string' },
      'c1-warmup': { type: 'string' },
      'c1-runs': { type: 'string' },
      store: { type: 'string' },
      'worker-concurrency': { type: 'string' },
      'worker-prefetch': { type: 'string' },
      only: { type: 'string', default: 'sagaflow,baseline' },
      'cpu-prof': { type: 'string' },
      quick: { type: 'boolean', default: false },
      stages: { type: 'boolean', default: false },
      out: { type: 'string' },
      peers: { type: 'string' },
      engines: { type: 'string' },
      partitions: { type: 'string' },
      telemetry: { type: 'string' },
      curve: { type: 'string' },
      against: { type: 'string' },
      'heap-growth': { type: 'string' },
    },
  }),
);
const deployments = ['sagaflow', 'sagaflow-tsx', 'baseline'] as const;
/**
 * What `--telemetry` compares: nothing on; Prometheus metrics served and scraped every second; every
 * span recorded by an OpenTelemetry SDK whose exporter drops them; and exported over OTLP/HTTP to a
 * receiver in this process.
 */
const telemetryVariants = ['off', 'metrics', 'traces-noop', 'traces-otlp'] as const;
type TelemetryVariant = (typeof telemetryVariants)[number];
if (values.only.split(',').some((item) => Object.hasOwn(sideBenches, item.trim()))) {
  refuse(bench, `--only ${Object.keys(sideBenches).join('|')} runs a bench of its own and takes no other deployment; got "${values.only}"`);
}
const quick = values.quick === true;
/** A whole-number option of at least `min`; `full` and `short` are its defaults without and with `--quick`. */
const num = (option: keyof typeof values, min: number, full: number, short: number): number => {
  const value = values[option];
  return typeof value === 'string' ? wholeNumber(bench, option, value, min) : quick ? short : full;
};
/** The in-flight levels of `--curve`: whole numbers from 1 to 20,000, or none. */
function curveLevels(text: string): number[] {
  if (text.trim() === 'none') return [];
  const levels = text.split(',').map((item) => wholeNumber(bench, 'curve', item.trim(), 1));
  const tooMany = levels.find((level) => level > 20_000);
  if (tooMany !== undefined) refuse(bench, `--curve takes in-flight levels up to 20000, not ${tooMany}`);
  return [...new Set(levels)].sort((a, b) => a - b);
}
const settings = {
  workloads: listOf(bench, 'workloads', values.workloads, ['W1', 'W2']),
  n: num('n', 1, 2000, 300),
  concurrency: num('concurrency', 1, 100, 100),
  runs: num('runs', 1, 3, 1),
  warmup: num('warmup', 0, 200, 50),
  deadlineS: num('deadlineS', 1, 60, 60),
  ids: oneOf(bench, 'ids', values.ids, instanceIdForms),
  c1: { n: num('c1-n', 0, 300, 50), warmup: num('c1-warmup', 0, 50, 10), runs: num('c1-runs', 1, 3, 1) },
  store: values.store ?? null,
  workerConcurrency: values['worker-concurrency'] === undefined ? null : num('worker-concurrency', 1, 100, 100),
  workerPrefetch: values['worker-prefetch'] === undefined ? null : num('worker-prefetch', 0, 100, 100),
  engines: num('engines', 1, 1, 1),
  partitions: values.partitions === undefined ? null : num('partitions', 1, 32, 32),
  telemetry: values.telemetry === undefined ? null : listOf(bench, 'telemetry', values.telemetry, telemetryVariants),
  phases: listOf(bench, 'only', values.only, deployments),
  cpuProfDir: values['cpu-prof'] ?? null,
  stages: values.stages === true,
  against: values.against ?? null,
  heapGrowth: values['heap-growth'] === undefined ? null : wholeNumber(bench, 'heap-growth', values['heap-growth'], 1),
  curve: curveLevels(values.curve ?? (quick ? 'none' : '10,100,1000,5000')),
  quick,
};
if (settings.telemetry !== null && (settings.engines > 1 || values.only !== 'sagaflow,baseline')) {
  refuse(bench, '--telemetry compares the compiled engine with itself, once per variant: it takes neither --only nor --engines');
}
if (settings.heapGrowth !== null && settings.heapGrowth > 1000) refuse(bench, `--heap-growth takes a percentage from 1 to 1000, not ${settings.heapGrowth}`);
if (settings.engines > 8) refuse(bench, `--engines takes a whole number from 1 to 8, not ${settings.engines}`);
if (settings.engines > 1 && !settings.phases.includes('sagaflow')) refuse(bench, '--engines compares Sagaflow with several engines against one: keep sagaflow in --only');
if (settings.against !== null && !existsSync(join(settings.against, 'packages', 'cli', 'bin', 'sagaflow.js'))) {
  refuse(bench, `--against ${settings.against}: not a Sagaflow checkout (no packages/cli/bin/sagaflow.js); clone the commit there and run npm ci in it`);
}
if (settings.against !== null && !settings.phases.includes('sagaflow')) refuse(bench, '--against compares Sagaflow with another checkout of it: keep sagaflow in --only');
if (settings.stages && settings.c1.n <= 0) refuse(bench, '--stages watches one more concurrency-1 run per workload; it needs --c1-n above 0');
// Read before anything is started or created, so a bad file leaves nothing behind.
const peers = ((): PeerFigures => {
  try {
    return values.peers === undefined ? readmePeers : peersFromFiles(values.peers.split(','));
  } catch (error) {
    refuse(bench, error instanceof Error ? error.message : String(error));
  }
})();
const saga = 'bench-order';
const dir = mkdtempSync(join(tmpdir(), 'sagaflow-bench-'));
const children: Child[] = [];
let nats: NatsServer | null = null;

/** The pid of the nats-server listening on `port`, found in /proc (for its CPU seconds). */
function natsPid(port: number): number | null {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmd.some((part) => part.endsWith('nats-server')) && cmd.includes(String(port))) return Number(entry);
    } catch {
      /* gone */
    }
  }
  return null;
}

const peakRssMb = (pid: number | undefined): number | null => procStatusMb(pid, 'VmHWM');

/** The driver's side of one namespace: start requests out, terminal status changes in. */
async function driver(connection: NatsConnection, namespace: string): Promise<{ startSaga: StartSaga; close: () => void }> {
  const names = naming(namespace);
  const js = jetstream(connection);
  const waiting = new Map<string, (result: { status: string }) => void>();
  const subscription = connection.subscribe(`${namespace}.evt.${saga}.>`, {
    callback: (error, msg) => {
      if (error !== null) return;
      const status = msg.subject.slice(msg.subject.lastIndexOf('.') + 1);
      if (status !== 'completed' && status !== 'compensated' && status !== 'cancelled' && status !== 'stuck') return;
      const { instanceId } = msg.json<{ instanceId: string }>();
      const resolve = waiting.get(instanceId);
      waiting.delete(instanceId);
      resolve?.({ status });
    },
  });
  await connection.flush();
  const startSaga: StartSaga = async (order: Order) => {
    const done = new Promise<{ status: string }>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(order.id);
        reject(new Error(`${order.id}: no terminal status after 60 s`));
      }, 60_000);
      waiting.set(order.id, (result) => {
        clearTimeout(timer);
        resolve(result);
      });
    });
    await requestStart(js, names, { saga, instanceId: order.id, input: order });
    return done;
  };
  return { startSaga, close: () => subscription.unsubscribe() };
}

async function started(child: Child, pattern: RegExp): Promise<Child> {
  children.push(child);
  await child.waitFor(pattern, 60_000);
  return child;
}

/** A concurrency-1 run made while watching the wire: its latency split, and its p50 as the driver measured it. */
interface WatchedRun {
  readonly stages: StageReport | null;
  readonly p50Ms: number | null;
}

interface PhaseResult {
  c100: Record<string, Series>;
  c1: Record<string, Series> | null;
  /** Where the latency of a watched concurrency-1 run went, per workload (`--stages`). */
  c1Stages: Record<string, WatchedRun> | null;
  peakRssMb: Record<string, number | null>;
}

let deploymentsMade = 0;

/**
 * A namespace of its own for each deployment of the run (`sf`: Sagaflow, `tb`: the transport baseline), all
 * of one length: every subject carries its namespace, so namespaces of different lengths would show as
 * different bytes per saga between deployments that send the same messages.
 */
function runNamespace(kind: 'sf' | 'tb'): string {
  return `${kind}${String(deploymentsMade++).padStart(2, '0')}${Date.now().toString(36)}`;
}

/** A deployment started and ready for the driver; `stop` ends its processes and returns what is read off them at the end. */
interface Deployment<Extra> {
  readonly label: string;
  readonly namespace: string;
  readonly pids: Record<string, number>;
  /** Reads the event-loop counters of its processes that report them, over the driver's connection. */
  readonly loops?: (connection: NatsConnection) => Promise<LoopCounters>;
  stop(): Promise<Extra & { peakRssMb: Record<string, number | null> }>;
}

/** Waits until the `engines` engines of a namespace hold every partition, each within one of an even share. */
async function balanced(connection: NatsConnection, namespace: string, engines: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const view = await readClusterView(jetstream(connection), await jetstreamManager(connection), naming(namespace));
    const owners = view?.partitions.map((partition) => partition.owner) ?? [];
    const shares = [...new Set(owners)].map((owner) => owners.filter((each) => each === owner).length);
    if (owners.length > 0 && !owners.includes(null) && shares.length === engines && Math.max(...shares) - Math.min(...shares) <= 1) return;
    if (Date.now() > deadline) throw new Error(`the ${engines} engines of ${namespace} did not share the partitions within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * `engines` engines (`sagaflow run` of `build`, sharing the namespace and the store under test) and the
 * bench worker, on a namespace of their own; with several engines, once they share the partitions evenly.
 */
async function deploySagaflow(
  connection: NatsConnection,
  natsUrl: string,
  pidOfNats: number | null,
  build: EngineBuild,
  engines = 1,
  telemetry: { readonly variant: TelemetryVariant; readonly otlpEndpoint: string } | null = null,
  against: string | null = null,
): Promise<Deployment<{ store: string; journalMode: string | null; engine: EngineBuild; engines: number }>> {
  const label = `${build === 'compiled' ? 'sagaflow' : 'sagaflow-tsx'}${engines > 1 ? `-x${engines}` : ''}${telemetry === null ? '' : `-${telemetry.variant}`}${against === null ? '' : '-against'}`;
  const namespace = runNamespace('sf');
  const variant = telemetry?.variant ?? 'off';
  const preload = variant === 'traces-noop' ? ['--import', './bench/noop-tracing.mjs'] : [];
  const metricsArgs = variant === 'metrics' ? ['--metrics-port', '0'] : [];
  const env = variant === 'traces-otlp' && telemetry !== null ? { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: telemetry.otlpEndpoint } : process.env;
  const storePath = join(dir, `${label}.db`);
  let store = settings.store ?? `sqlite:${storePath}`;
  if (/^esdb/i.test(store) && !/[?&]listing=/i.test(store)) store += `${store.includes('?') ? '&' : '?'}listing=${encodeURIComponent(join(dir, `${label}-listing.db`))}`;
  const prof = settings.cpuProfDir === null ? [] : ['--cpu-prof', '--cpu-prof-dir', settings.cpuProfDir];
  const command = engineCommand(build, against ?? undefined);
  const processes: Child[] = [];
  for (let n = 1; n <= engines; n++) {
    const id = ['--engine-id', `${label}-${n}`, ...(settings.partitions === null ? [] : ['--partitions', String(settings.partitions)])];
    // Only this checkout's engine: an earlier one (--against) may not know the option.
    if (settings.heapGrowth !== null && against === null) id.push('--heap-growth', String(settings.heapGrowth));
    processes.push(await started(spawnNode([...prof, ...preload, ...command.node, 'run', '--sagas', command.sagas, '--store', store, '--nats', natsUrl, '--namespace', namespace, ...id, ...metricsArgs], env), /engine ready/u));
  }
  if (engines > 1) await balanced(connection, namespace, engines);
  const engineName = (n: number): string => (n === 0 ? 'engine' : `engine-${n + 1}`);
  const workerArgs = ['--nats', natsUrl, '--namespace', namespace, ...(settings.workerConcurrency === null ? [] : ['--concurrency', String(settings.workerConcurrency)])];
  // Only this checkout's worker: an earlier one (--against) may not know the option.
  if (settings.workerPrefetch !== null && against === null) workerArgs.push('--prefetch', String(settings.workerPrefetch));
  // The worker as the engine: compiled (as a team deploys it), or from its sources through tsx.
  const workerCommand = build === 'compiled' ? compiledWorker(against ?? undefined) : ['--import', 'tsx', 'bench/worker.ts'];
  const worker = await started(spawnNode([...prof, ...preload, ...workerCommand, ...workerArgs, ...metricsArgs], env, against === null ? {} : { cwd: against }), /^worker ready$/u);
  // Scraped every second (Prometheus' default is 15 s): the metrics variant pays for its scrapes too.
  const scrape = variant === 'metrics' ? scrapeEverySecond([...processes, worker]) : null;
  const pids: Record<string, number> = {
    ...Object.fromEntries(processes.map((child, n) => [engineName(n), child.process.pid ?? 0])),
    worker: worker.process.pid ?? 0,
    ...(pidOfNats === null ? {} : { 'nats-server': pidOfNats }),
  };
  const stop = async () => {
    const peakRss = { ...Object.fromEntries(processes.map((child, n) => [engineName(n), peakRssMb(child.process.pid)])), worker: peakRssMb(worker.process.pid) };
    let journalMode: string | null = null;
    if (settings.store === null) {
      const { default: Database } = await import('better-sqlite3');
      const db = new Database(storePath, { readonly: true });
      journalMode = String(db.pragma('journal_mode', { simple: true }));
      db.close();
    }
    scrape?.stop();
    await stopChild(worker);
    for (const child of processes) await stopChild(child);
    return { peakRssMb: peakRss, store: settings.store ?? `sqlite:<temp dir>/${label}.db`, journalMode, engine: build, engines };
  };
  // The engine reports its event loop's busy and idle time when pinged (`sagaflow ping`); with several, one of them answers, so none is read.
  const loops = async (on: NatsConnection): Promise<LoopCounters> => {
    const { eventLoop } = await pingEngine(on, naming(namespace));
    return eventLoop === undefined ? {} : { engine: eventLoop };
  };
  return { label, namespace, pids, ...(engines === 1 ? { loops } : {}), stop };
}

/** Fetches `/metrics` of each process (from the `metrics on …` line it logged) every second, until stopped. */
function scrapeEverySecond(processes: readonly Child[]): { stop(): void } {
  const urls = processes.map((child) => {
    const url = /metrics on (http:\/\/[\d.]+:\d+\/metrics)/u.exec(child.lines.join('\n'))?.[1];
    if (url === undefined) throw new Error(`no metrics address logged by pid ${child.process.pid ?? '?'}`);
    return url;
  });
  const timer = setInterval(() => {
    for (const url of urls) void fetch(url).then((response) => response.text(), () => '');
  }, 1000);
  return { stop: () => clearInterval(timer) };
}

/** An OTLP/HTTP endpoint that reads and drops what is sent to it (its cost is the driver's CPU, reported apart). */
async function otlpSink(): Promise<{ endpoint: string; requests: () => number; close(): Promise<void> }> {
  const { createServer } = await import('node:http');
  let requests = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      requests++;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { endpoint: `http://127.0.0.1:${port}`, requests: () => requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The transport baseline: a relay in the engine's place and an echo in the worker's, on a namespace of their own. */
async function deployBaseline(natsUrl: string, pidOfNats: number | null): Promise<Deployment<object>> {
  const namespace = runNamespace('tb');
  const args = ['--nats', natsUrl, '--namespace', namespace];
  const relay = await started(spawnTs('bench/transport-baseline.ts', ['--role', 'relay', ...args]), /^relay ready$/u);
  const echo = await started(spawnTs('bench/transport-baseline.ts', ['--role', 'echo', ...args]), /^echo ready$/u);
  const pids: Record<string, number> = { relay: relay.process.pid ?? 0, echo: echo.process.pid ?? 0, ...(pidOfNats === null ? {} : { 'nats-server': pidOfNats }) };
  const stop = async () => {
    const peakRss = { relay: peakRssMb(relay.process.pid), echo: peakRssMb(echo.process.pid) };
    await stopChild(echo);
    await stopChild(relay);
    return { peakRssMb: peakRss };
  };
  return { label: 'baseline', namespace, pids, stop };
}

/** A deployment as the driver runs it: its label and processes, how to start a saga, its event-loop counters if it reports them. */
function systemOf(connection: NatsConnection, deployment: Deployment<object>, startSaga: StartSaga): System {
  const { loops } = deployment;
  return { label: deployment.label, pids: deployment.pids, startSaga, ...(loops === undefined ? {} : { loops: () => loops(connection) }) };
}

/**
 * Runs the selected deployments side by side: both are started first, then their runs alternate
 * (Sagaflow run 1, baseline run 1, Sagaflow run 2, …) at 100 in flight, then at concurrency 1.
 */
async function measure(
  connection: NatsConnection,
  natsUrl: string,
  deployments: readonly Deployment<object>[],
  traffic: (() => Promise<NatsTraffic>) | undefined,
): Promise<Map<string, Omit<PhaseResult, 'peakRssMb'>>> {
  const drivers = await Promise.all(deployments.map((deployment) => driver(connection, deployment.namespace)));
  const systems = deployments.map((deployment, at) => systemOf(connection, deployment, (drivers[at] as { startSaga: StartSaga }).startSaga));
  const shared = { workloads: settings.workloads, deadlineS: settings.deadlineS, traffic, ids: settings.ids };
  const c100 = await runSeries(systems, { ...shared, n: settings.n, concurrency: settings.concurrency, runs: settings.runs, warmup: settings.warmup });
  const c1 = settings.c1.n > 0 ? await runSeries(systems, { ...shared, n: settings.c1.n, concurrency: 1, runs: settings.c1.runs, warmup: settings.c1.warmup, tag: ' c1' }) : null;
  // Watching costs the machine work of its own, so the watched run is one more, outside the series above.
  let stagesOf = (_label: string): Record<string, WatchedRun> | null => null;
  if (c1 !== null && settings.stages) {
    const watch = await StageWatch.start(natsUrl);
    const watched = await runSeries(systems, { ...shared, n: settings.c1.n, concurrency: 1, runs: 1, warmup: 0, tag: ' c1 watched' });
    await watch.stop();
    // The watched runs name their sagas `<workload>-<label>-…`; the watch saw no others of that form.
    stagesOf = (label) => Object.fromEntries(settings.workloads.map((wl) => [wl, { stages: watch.report(`${wl}-${label}-`), p50Ms: watched[label]?.[wl]?.median.p50 ?? null }]));
  }
  for (const each of drivers) each.close();
  return new Map(
    deployments.map((deployment) => [deployment.label, { c100: c100[deployment.label] ?? {}, c1: c1?.[deployment.label] ?? null, c1Stages: stagesOf(deployment.label) }]),
  );
}

/**
 * `--curve`: after the series, one Sagaflow run per workload at each in-flight level, in increasing order,
 * with the engine's peak RSS read after each level (so the figure of a level is the peak up to it).
 */
async function measureCurve(connection: NatsConnection, deployment: Deployment<object>, traffic: (() => Promise<NatsTraffic>) | undefined): Promise<CurvePoint[]> {
  if (settings.curve.length === 0) return [];
  const { startSaga, close } = await driver(connection, deployment.namespace);
  const system = systemOf(connection, deployment, startSaga);
  const points: CurvePoint[] = [];
  try {
    for (const level of settings.curve) {
      const n = Math.max(settings.n, 2 * level);
      const series = await runSeries([system], { workloads: settings.workloads, n, concurrency: level, runs: 1, warmup: 0, deadlineS: settings.deadlineS, tag: ` curve ${level}`, traffic, ids: settings.ids });
      const engineRssMb = peakRssMb(deployment.pids.engine);
      for (const wl of settings.workloads) {
        const each = series[deployment.label]?.[wl];
        if (each !== undefined) points.push({ concurrency: level, workload: wl, series: each, engineRssMb });
      }
    }
  } finally {
    close();
  }
  return points;
}

/** Reads the counters of the bench's own nats-server from its monitoring endpoint (`-m`). */
async function readTraffic(monitorPort: number): Promise<NatsTraffic> {
  const response = await fetch(`http://127.0.0.1:${monitorPort}/varz`);
  if (!response.ok) throw new Error(`nats-server monitoring on port ${monitorPort} answered ${response.status}`);
  const varz = (await response.json()) as { in_msgs: number; out_msgs: number; in_bytes: number; out_bytes: number };
  return { inMsgs: varz.in_msgs, outMsgs: varz.out_msgs, inBytes: varz.in_bytes, outBytes: varz.out_bytes };
}

/** Rows of the NATS traffic table: messages and kilobytes per saga, medians of the runs. */
function trafficRows(label: string, phase: PhaseResult | null): string[] {
  return Object.entries(phase?.c100 ?? {}).flatMap(([wl, s]) => {
    const t = s.natsPerSagaMedian;
    return t === undefined ? [] : [`| ${label} | ${wl} | ${t.msgsIn} / ${t.msgsOut} | ${t.kbIn} / ${t.kbOut} |`];
  });
}

/** Rows of the stage table: medians per saga of each part's total, with the count and the median single turn. */
function stageRows(label: string, phase: PhaseResult | null): string[] {
  return Object.entries(phase?.c1Stages ?? {}).flatMap(([wl, { stages: r, p50Ms }]) =>
    r === null
      ? []
      : [
          `| ${label} | ${wl} | ${r.sagas} | ${p50Ms ?? '?'} / ${phase?.c1?.[wl]?.median.p50 ?? '?'} | ${r.totalMs} | ${r.engineMs} (${r.engineTurns} × ${r.engineTurnMs}) | ` +
            `${r.workerMs} (${r.workerTurns} × ${r.workerTurnMs}) | ${r.serverMs} (${r.serverHops} × ${r.serverHopMs}) |`,
        ],
  );
}

/** The stage table (`--stages`), if the concurrency-1 runs were watched. */
const stageTable = (rows: readonly string[]): string[] =>
  rows.length === 0
    ? []
    : [
        '| where a saga\'s time goes at concurrency 1 (watched run, medians) | wl | sagas | p50 ms, watched / unwatched runs | start stored → end announced, ms | ' +
          'engine / relay turns, ms (turns × one) | worker / echo turns, ms | server hops, ms |',
        '|---|---|---|---|---|---|---|---|',
        ...rows,
        '',
      ];

/** The NATS traffic table (at the configured concurrency), if any run read the server's counters. */
const trafficTable = (rows: readonly string[]): string[] =>
  rows.length === 0
    ? []
    : ['| what | wl | NATS messages per saga, in / out (server) | KB per saga, in / out |', '|---|---|---|---|', ...rows, ''];

function seriesRows(label: string, phase: PhaseResult | null, c: 'c100' | 'c1'): string[] {
  const series = phase?.[c];
  if (series === null || series === undefined) return [];
  return Object.entries(series).map(([wl, s]) => {
    const m = s.median;
    const busy = (name: string): string => (s.loopBusyPctMedian?.[name] === undefined ? '' : ` (loop ${s.loopBusyPctMedian[name]}% busy)`);
    const cpu = Object.entries(s.procCpuSMedian).map(([name, v]) => `${name} ${v}${busy(name)}`).join(', ');
    return `| ${label} | ${wl} | ${c === 'c100' ? settings.concurrency : 1} | ${m.n} | ${m.wallS} | ${m.sagasPerS} | ${m.p50} / ${m.p95} / ${m.p99} | ${s.runs.map((r) => r.cpuBusyPct).join('/')} | ${cpu} |`;
  });
}

const ms = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '?');

/**
 * The engine's CPU per saga compiled against through tsx (both deployments run), run by run: run r of one
 * and run r of the other alternated, so each pair met the same machine.
 */
function engineBuildTable(compiled: PhaseResult | null, tsx: PhaseResult | null): string[] {
  if (compiled === null || tsx === null) return [];
  const rows = (['c100', 'c1'] as const).flatMap((c) =>
    Object.entries(compiled[c] ?? {}).flatMap(([wl, series]) => {
      const other = tsx[c]?.[wl];
      if (other === undefined) return [];
      const ours = series.runs.map((run) => cpuMsPerSaga(run, 'engine'));
      const theirs = other.runs.map((run) => cpuMsPerSaga(run, 'engine'));
      const ratios = ours.map((x, r) => x / (theirs[r] ?? Number.NaN)).filter(Number.isFinite);
      return [
        `| ${wl} | ${c === 'c100' ? settings.concurrency : 1} | ${ours.map(ms).join(', ')} | ${theirs.map(ms).join(', ')} | ${ms(median(ratios))} ` +
          `| ${series.median.sagasPerS} / ${other.median.sagasPerS} |`,
      ];
    }),
  );
  return [
    '| engine CPU per saga, compiled against through tsx | in flight | compiled, ms per run | through tsx, ms per run | compiled / tsx, median of the pairs | sagas/s, compiled / tsx (medians) |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
  ];
}

/**
 * This checkout against the one of `--against`, run by run (their runs alternated, the baseline's
 * between them): throughput, and the engine's and worker's CPU per saga, also as multiples of the
 * relay's and echo's of the same round (which take out the machine's drift between rounds).
 */
function againstTable(now: PhaseResult | null, then: PhaseResult | null, base: PhaseResult | null): string[] {
  if (now === null || then === null) return [];
  const rows = (['c100', 'c1'] as const).flatMap((c) =>
    Object.entries(now[c] ?? {}).flatMap(([wl, series]) =>
      series.runs.map((run, r) => {
        const earlier = then[c]?.[wl]?.runs[r];
        const baseline = base?.[c]?.[wl]?.runs[r];
        const cell = (process: string, reference: string): string => {
          const a = cpuMsPerSaga(earlier, process);
          const b = cpuMsPerSaga(run, process);
          const ref = cpuMsPerSaga(baseline, reference);
          return `${ms(a)} → ${ms(b)}${Number.isFinite(ref) ? ` (${(a / ref).toFixed(2)}× → ${(b / ref).toFixed(2)}× ${reference})` : ''}`;
        };
        return `| ${wl} | ${c === 'c100' ? settings.concurrency : 1} | ${r + 1} | ${earlier?.sagasPerS ?? '?'} → ${run.sagasPerS} | ${baseline?.sagasPerS ?? '—'} | ${cell('engine', 'relay')} | ${cell('worker', 'echo')} |`;
      }),
    ),
  );
  return [
    `| before (${settings.against ?? ''}) → now, run by run | in flight | run | sagas/s | baseline sagas/s | engine CPU ms per saga | worker CPU ms per saga |`,
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
  ];
}

/** Throughput with several engines against one, run by run (the runs alternated), and the CPU of each engine per saga. */
function enginesTable(one: PhaseResult | null, several: PhaseResult | null): string[] {
  if (one === null || several === null) return [];
  const cpuPerSaga = (run: RunResult): string =>
    Object.entries(run.procCpuS)
      .filter(([name]) => name.startsWith('engine'))
      .map(([name]) => `${name} ${ms(cpuMsPerSaga(run, name))}`)
      .join(', ');
  const rows = Object.entries(one.c100).flatMap(([wl, series]) => {
    const other = several.c100[wl];
    if (other === undefined) return [];
    const ratios = series.runs.map((run, r) => (other.runs[r]?.sagasPerS ?? Number.NaN) / run.sagasPerS).filter(Number.isFinite);
    return [
      `| ${wl} | ${series.runs.map((run) => run.sagasPerS).join(', ')} | ${other.runs.map((run) => run.sagasPerS).join(', ')} | ${median(ratios).toFixed(2)} ` +
        `| ${series.runs.map(cpuPerSaga).join('; ')} | ${other.runs.map(cpuPerSaga).join('; ')} |`,
    ];
  });
  return [
    `| engines: ${settings.engines} against 1, at ${settings.concurrency} in flight | sagas/s, 1 engine (runs) | sagas/s, ${settings.engines} engines (runs) | ${settings.engines} / 1, median of the pairs | engine CPU ms per saga, 1 engine | engine CPU ms per saga, each of ${settings.engines} |`,
    '|---|---|---|---|---|---|',
    ...rows,
    '',
  ];
}

/**
 * `--telemetry`: the compiled engine and the bench worker once per variant, measured alternating like
 * the other deployments; prints throughput and CPU per saga of each against `off`, and writes them.
 */
async function compareTelemetry(
  connection: NatsConnection,
  natsUrl: string,
  pidOfNats: number | null,
  variants: readonly TelemetryVariant[],
  traffic: (() => Promise<NatsTraffic>) | undefined,
  machine: Record<string, unknown>,
): Promise<void> {
  console.log('building the compiled engine: tsc -b packages/cli, and the bench saga to dist/bench-sagas');
  prepareCompiledEngine();
  const sink = await otlpSink();
  const deployed = [];
  for (const variant of variants) deployed.push({ variant, deployment: await deploySagaflow(connection, natsUrl, pidOfNats, 'compiled', 1, { variant, otlpEndpoint: sink.endpoint }) });
  const measured = await measure(connection, natsUrl, deployed.map((each) => each.deployment), traffic);
  const results = [];
  for (const { variant, deployment } of deployed) results.push({ variant, ...(await deployment.stop()), ...(measured.get(deployment.label) ?? { c100: {}, c1: null, c1Stages: null }) });
  const exports = sink.requests();
  await sink.close();
  const off = results.find((result) => result.variant === 'off');
  const perSaga = (series: Series | undefined, process: string): string => {
    const cpu = series?.procCpuSMedian[process];
    const n = series?.median.n;
    return cpu === undefined || n === undefined || n === 0 ? '—' : ((1000 * cpu) / n).toFixed(3);
  };
  const rows = results.flatMap((result) =>
    settings.workloads.map((wl) => {
      const series = result.c100[wl];
      const own = series?.median.sagasPerS;
      const base = off?.c100[wl]?.median.sagasPerS;
      const cost = own === undefined || base === undefined || result === off ? '—' : `${((100 * (base - own)) / base).toFixed(1)}%`;
      const runs = (series?.runs ?? []).map((run) => run.sagasPerS).join(', ');
      return `| ${result.variant} | ${wl} | ${own ?? '—'} (${runs}) | ${cost} | ${series?.median.p99 ?? '—'} | ${perSaga(series, 'engine')} | ${perSaga(series, 'worker')} |`;
    }),
  );
  console.log(
    [
      '',
      `| telemetry | wl | sagas/s median (runs) | throughput cost vs off | p99 ms | engine CPU ms/saga | worker CPU ms/saga |`,
      '|---|---|---|---|---|---|---|',
      ...rows,
      '',
      `OTLP export requests received: ${exports}`,
    ].join('\n'),
  );
  const out = writeResultsFile(values.out, '-telemetry', { when: new Date().toISOString(), command: `npm run bench -- ${argv.join(' ')}`.trim(), machine, settings, telemetry: results, otlpExportRequests: exports });
  console.log(`wrote ${out}`);
}

const natsVersion = (): string => {
  const out = spawnSync(process.env.NATS_SERVER_BIN ?? 'nats-server', ['--version'], { encoding: 'utf8' });
  return (out.stdout || out.stderr || '?').trim();
};

let exitCode = 0;
try {
  let natsUrl = process.env.NATS_URL ?? '';
  let pidOfNats: number | null = null;
  let traffic: (() => Promise<NatsTraffic>) | undefined;
  if (natsUrl === '') {
    const monitorPort = await freePort();
    nats = await startNatsServer({ args: ['-m', String(monitorPort)] });
    natsUrl = nats.url;
    pidOfNats = natsPid(nats.port);
    traffic = () => readTraffic(monitorPort);
  }
  const connection = await connectNats({ url: natsUrl, name: 'bench-driver' });
  const machine = { ...machineFacts(), natsServer: natsVersion() };
  console.log(`machine: ${JSON.stringify(machine)}; nats ${natsUrl}${nats === null ? ' (NATS_URL)' : ` (own nats-server, JetStream in ${nats.storeDir})`}`);
  console.log(`settings: ${JSON.stringify(settings)}`);
  if (settings.telemetry !== null) {
    await compareTelemetry(connection, natsUrl, pidOfNats, settings.telemetry, traffic, machine);
    await connection.close();
  } else {
    if (settings.phases.includes('sagaflow')) {
      console.log('building the compiled engine: tsc -b packages/cli, and the bench saga to dist/bench-sagas');
      prepareCompiledEngine();
    }
    // The commit time of the p50 floor, measured before anything else runs (on the disk of the engine's store).
    let floor: CommitFloor | null = null;
    if (settings.phases.includes('sagaflow') && settings.store === null && settings.c1.n > 0) {
      floor = await measureCommitFloor(dir, settings.workloads);
      console.log(`commit floor: ${floor.commitMs} ms per commit (median of ${floor.commits}, one append each, 1 ms apart); commits per saga ${JSON.stringify(floor.commitsPerSaga)}`);
    }
    const sagaflowDeployment = settings.phases.includes('sagaflow') ? await deploySagaflow(connection, natsUrl, pidOfNats, 'compiled') : null;
    if (settings.against !== null) {
      console.log(`building the compiled engine of ${settings.against}`);
      prepareCompiledEngine(settings.against);
    }
    const againstDeployment = settings.against === null ? null : await deploySagaflow(connection, natsUrl, pidOfNats, 'compiled', 1, null, settings.against);
    const scaledDeployment = settings.phases.includes('sagaflow') && settings.engines > 1 ? await deploySagaflow(connection, natsUrl, pidOfNats, 'compiled', settings.engines) : null;
    const tsxDeployment = settings.phases.includes('sagaflow-tsx') ? await deploySagaflow(connection, natsUrl, pidOfNats, 'tsx') : null;
    const baselineDeployment = settings.phases.includes('baseline') ? await deployBaseline(natsUrl, pidOfNats) : null;
    const measured = await measure(connection, natsUrl, [sagaflowDeployment, againstDeployment, scaledDeployment, tsxDeployment, baselineDeployment].filter((each) => each !== null), traffic);
    const curve = sagaflowDeployment === null ? [] : await measureCurve(connection, sagaflowDeployment, traffic);
    const finished = async <E extends object>(deployment: Deployment<E> | null): Promise<(E & PhaseResult) | null> =>
      deployment === null ? null : { ...(await deployment.stop()), ...(measured.get(deployment.label) ?? { c100: {}, c1: null, c1Stages: null }) };
    const sf = await finished(sagaflowDeployment);
    const sfAgainst = await finished(againstDeployment);
    const againstLabel = `Sagaflow at ${settings.against ?? ''}`;
    const sfScaled = await finished(scaledDeployment);
    const scaledLabel = `Sagaflow, ${settings.engines} engines`;
    const sfTsx = await finished(tsxDeployment);
    const base = await finished(baselineDeployment);
    await connection.close();
    const lines = targetLines(sf, base, peers, floor, curve);
    const table = [
      '',
      '| what | wl | in flight | N | wall s | sagas/s | p50 / p95 / p99 ms | CPU busy % (runs) | CPU s per process, median run (event loop busy) |',
      '|---|---|---|---|---|---|---|---|---|',
      ...seriesRows('Sagaflow', sf, 'c100'),
      ...seriesRows(againstLabel, sfAgainst, 'c100'),
      ...seriesRows(scaledLabel, sfScaled, 'c100'),
      ...seriesRows('Sagaflow through tsx', sfTsx, 'c100'),
      ...seriesRows('transport baseline', base, 'c100'),
      ...seriesRows('Sagaflow', sf, 'c1'),
      ...seriesRows(againstLabel, sfAgainst, 'c1'),
      ...seriesRows(scaledLabel, sfScaled, 'c1'),
      ...seriesRows('Sagaflow through tsx', sfTsx, 'c1'),
      ...seriesRows('transport baseline', base, 'c1'),
      '',
      ...engineBuildTable(sf, sfTsx),
      ...againstTable(sf, sfAgainst, base),
      ...enginesTable(sf, sfScaled),
      ...trafficTable([...trafficRows('Sagaflow', sf), ...trafficRows(againstLabel, sfAgainst), ...trafficRows(scaledLabel, sfScaled), ...trafficRows('Sagaflow through tsx', sfTsx), ...trafficRows('transport baseline', base)]),
      ...stageTable([...stageRows('Sagaflow', sf), ...stageRows('Sagaflow through tsx', sfTsx), ...stageRows('transport baseline', base)]),
      ...curveTable(curve),
      '| target | value | verdict | vs best peer (>1 = better) |',
      '|---|---|---|---|',
      ...lines.map((l) => `| ${l.target} | ${l.value === null ? '—' : `${Number(l.value.toFixed(Math.abs(l.value) < 10 ? 3 : 1))}${l.unit}`} | ${l.verdict} | ${l.vsPeer} |`),
      '',
      `load average at end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`,
    ].join('\n');
    console.log(table);
    const out = writeResultsFile(values.out, '', { when: new Date().toISOString(), command: `npm run bench -- ${argv.join(' ')}`.trim(), machine, settings, sagaflow: sf, sagaflowAgainst: sfAgainst, sagaflowEngines: sfScaled, sagaflowTsx: sfTsx, baseline: base, peers, commitFloor: floor, curve, targets: lines, loadAvgAtEnd: loadavg() });
    console.log(`wrote ${out}`);
  }
} catch (error) {
  exitCode = 1;
  reportFailure(error, children);
} finally {
  await tearDown(children, nats, dir);
}
process.exit(exitCode);
