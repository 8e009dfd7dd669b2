/**
 * The load driver, with the semantics of ../shared/peers/common/harness.mjs (which Restate and DBOS
 * were measured with): keep `concurrency` sagas in flight until N have been started (no new starts
 * after `deadlineS`), wait for all; latency from the start call to the saga's result; percentiles by
 * nearest rank; machine busy % from /proc/stat (and 1 s samples); CPU seconds per process from
 * /proc/<pid>/stat; medians of each column taken on their own.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { eventLoopBusyShare, type EventLoopCounters } from '@sagaflow/nats';
import { makeOrder, type InstanceIds, type Order } from './steps.js';

export type StartSaga = (order: Order) => Promise<{ status: string }>;

export interface RunResult {
  n: number;
  ok: number;
  errors: number;
  wrong: number;
  firstErr: string | null;
  wallS: number;
  sagasPerS: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  cpuBusyPct: number;
  cpuIowaitPct: number;
  cpuBusySamplesPct: number[];
  driverCpuS: number;
  procCpuS: Record<string, number>;
  loadAvg1: [number, number];
  /** What the NATS server received and sent during the run, per saga (when its monitoring is reachable). */
  natsPerSaga?: TrafficPerSaga;
  /** How busy the event loop of each process that reports one was during the run, in % (see {@link loopBusyPct}). */
  loopBusyPct?: Record<string, number>;
}

export interface Series {
  median: { n: number; wallS: number; sagasPerS: number; p50: number; p95: number; p99: number; cpuBusyPct: number };
  procCpuSMedian: Record<string, number>;
  natsPerSagaMedian?: TrafficPerSaga;
  loopBusyPctMedian?: Record<string, number>;
  runs: RunResult[];
}

/** Event-loop counters (busy and idle milliseconds since start) by process, as `sagaflow ping` reports the engine's. */
export type LoopCounters = Record<string, EventLoopCounters>;

/** The busy share of each process's event loop between two readings, in %; a process missing from either, or whose loop did not advance, is left out. */
export function loopBusyPct(before: LoopCounters, after: LoopCounters): Record<string, number> {
  const busy: Record<string, number> = {};
  for (const [name, end] of Object.entries(after)) {
    const start = before[name];
    const share = start === undefined ? null : eventLoopBusyShare(end, start);
    if (share !== null) busy[name] = round(100 * share);
  }
  return busy;
}

/** The NATS server's message and byte counters since it started (its monitoring endpoint's `/varz`). */
export interface NatsTraffic {
  readonly inMsgs: number;
  readonly outMsgs: number;
  readonly inBytes: number;
  readonly outBytes: number;
}

/** Messages and kilobytes (1,000 bytes) the NATS server received and sent, per saga of a run. */
export interface TrafficPerSaga {
  msgsIn: number;
  msgsOut: number;
  kbIn: number;
  kbOut: number;
}

const trafficPerSaga = (before: NatsTraffic, after: NatsTraffic, sagas: number): TrafficPerSaga => ({
  msgsIn: round((after.inMsgs - before.inMsgs) / sagas, 2),
  msgsOut: round((after.outMsgs - before.outMsgs) / sagas, 2),
  kbIn: round((after.inBytes - before.inBytes) / sagas / 1000, 2),
  kbOut: round((after.outBytes - before.outBytes) / sagas / 1000, 2),
});

/** A run's line fragment for the NATS traffic per saga, or nothing when it was not read. */
export const describeTraffic = (t: TrafficPerSaga | undefined): string =>
  t === undefined ? '' : ` nats/saga: ${t.msgsIn}→${t.msgsOut} msgs, ${t.kbIn}→${t.kbOut} KB (in→out)`;

function cpuTotals(): { idle: number; total: number; iowait: number } {
  const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const at = (i: number): number => f[i] ?? 0;
  return { idle: at(3) + at(4), total: f.slice(0, 8).reduce((s, x) => s + x, 0), iowait: at(4) };
}

/** A memory figure of a process from /proc/<pid>/status, in MB, or null once it has exited. */
export function procStatusMb(pid: number | undefined, field: 'VmRSS' | 'VmHWM' | 'RssAnon' | 'RssFile'): number | null {
  try {
    const kb = new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? null : Math.round(Number(kb) / 1024);
  } catch {
    return null;
  }
}

export function procCpuTicks(pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return NaN;
  }
}

function pct(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] ?? NaN;
}

export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** A process's CPU per saga in one run, ms (NaN without the run or the process). */
export const cpuMsPerSaga = (run: RunResult | undefined, process: string): number => (run === undefined ? Number.NaN : (1000 * (run.procCpuS[process] ?? Number.NaN)) / run.n);
const round = (x: number, digits = 1): number => Number(x.toFixed(digits));

export async function runOnce(options: {
  startSaga: StartSaga;
  n: number;
  concurrency: number;
  deadlineS: number;
  runTag: string;
  failShipment: boolean;
  expect: string;
  pids: Record<string, number>;
  /** Reads the NATS server's counters, to report its traffic per saga. */
  traffic?: (() => Promise<NatsTraffic>) | undefined;
  /** Reads the event-loop counters of the processes that report them. */
  loops?: (() => Promise<LoopCounters>) | undefined;
  /** How the sagas' instances are named (default `sequential`). */
  ids?: InstanceIds | undefined;
}): Promise<RunResult> {
  const { startSaga, n, concurrency, deadlineS, runTag, failShipment, expect, pids, traffic, loops, ids } = options;
  const traffic0 = await traffic?.();
  const loops0 = await loops?.();
  const lat: number[] = [];
  let started = 0;
  let done = 0;
  let errors = 0;
  let wrong = 0;
  let firstErr: string | null = null;
  const load0 = loadavg()[0] ?? 0;
  const c0 = cpuTotals();
  const p0 = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, procCpuTicks(pid)]));
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + deadlineS * 1000;
  const samples: number[] = [];
  let prev = c0;
  const sampler = setInterval(() => {
    const c = cpuTotals();
    const dt = c.total - prev.total;
    if (dt > 0) samples.push(100 * (1 - (c.idle - prev.idle) / dt));
    prev = c;
  }, 1000);
  const worker = async (): Promise<void> => {
    while (started < n && performance.now() < deadline) {
      const i = started++;
      const order = makeOrder(runTag, i, failShipment, ids);
      const s = performance.now();
      try {
        const r = await startSaga(order);
        lat.push(performance.now() - s);
        if (r.status !== expect) {
          wrong++;
          firstErr ??= `unexpected result: ${JSON.stringify(r)}`;
        }
      } catch (error) {
        errors++;
        firstErr ??= String(error instanceof Error ? error.stack : error);
      }
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wall = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  const traffic1 = await traffic?.();
  const loops1 = await loops?.();
  const c1 = cpuTotals();
  const self1 = process.cpuUsage(self0);
  const hz = 100;
  const procCpuS = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, round((procCpuTicks(pid) - (p0[name] ?? 0)) / hz, 2)]));
  lat.sort((x, y) => x - y);
  return {
    n: done,
    ok: lat.length,
    errors,
    wrong,
    firstErr,
    wallS: round(wall, 3),
    sagasPerS: round((done - errors) / wall),
    p50: round(pct(lat, 50)),
    p95: round(pct(lat, 95)),
    p99: round(pct(lat, 99)),
    max: round(lat[lat.length - 1] ?? NaN),
    cpuBusyPct: round(100 * (1 - (c1.idle - c0.idle) / (c1.total - c0.total))),
    cpuIowaitPct: round((100 * (c1.iowait - c0.iowait)) / (c1.total - c0.total)),
    cpuBusySamplesPct: samples.map((x) => Math.round(x)),
    driverCpuS: round((self1.user + self1.system) / 1e6, 2),
    procCpuS,
    loadAvg1: [round(load0, 2), round(loadavg()[0] ?? 0, 2)],
    ...(traffic0 === undefined || traffic1 === undefined || done === 0 ? {} : { natsPerSaga: trafficPerSaga(traffic0, traffic1, done) }),
    ...(loops0 === undefined || loops1 === undefined ? {} : { loopBusyPct: loopBusyPct(loops0, loops1) }),
  };
}

/** One deployment under test, as the driver sees it: how to start a saga and which processes to account. */
export interface System {
  readonly label: string;
  readonly startSaga: StartSaga;
  readonly pids: Record<string, number>;
  /** Reads the event-loop counters of the system's processes that report them (Sagaflow's engine). */
  readonly loops?: () => Promise<LoopCounters>;
}

/**
 * A warm-up of each system, then for each workload `runs` rounds, each round one run of every system
 * in turn, so that run r of one system and run r of another meet the same machine conditions (on a
 * shared or virtual machine the speed drifts over minutes). Returns the series by system label, then workload.
 */
export async function runSeries(
  systems: readonly System[],
  options: {
    workloads: readonly string[];
    n: number;
    concurrency: number;
    runs: number;
    warmup: number;
    deadlineS: number;
    tag?: string;
    /** Reads the NATS server's counters (see {@link NatsTraffic}); without it, no traffic is reported. */
    traffic?: (() => Promise<NatsTraffic>) | undefined;
    /** How the sagas' instances are named (default `sequential`). */
    ids?: InstanceIds | undefined;
  },
): Promise<Record<string, Record<string, Series>>> {
  const stamp = Date.now().toString(36);
  const name = (system: System): string => `${system.label}${options.tag ?? ''}`;
  // Instance ids carry the run tag, and the messages carry the ids: a tag of one length for every system
  // (its place in the list, not its label) keeps the bytes per saga of the systems comparable.
  const tagOf = (system: System): string => `s${String(systems.indexOf(system)).padStart(2, '0')}`;
  for (const system of systems) {
    if (options.warmup <= 0) break;
    const w = await runOnce({ startSaga: system.startSaga, n: options.warmup, concurrency: Math.min(options.concurrency, options.warmup), deadlineS: 60, runTag: `warm-${tagOf(system)}-${stamp}`, failShipment: false, expect: 'completed', pids: {}, ids: options.ids });
    console.log(`[${name(system)}] warmup ${options.warmup}: ${w.wallS}s errors=${w.errors} wrong=${w.wrong}${w.firstErr === null ? '' : ` first=${w.firstErr}`}`);
    if (w.errors > 0 || w.wrong > 0) throw new Error(`${name(system)}: warmup failed`);
  }
  const out: Record<string, Record<string, Series>> = Object.fromEntries(systems.map((system) => [system.label, {}]));
  for (const wl of options.workloads) {
    const failShipment = wl === 'W2';
    const runs = new Map<System, RunResult[]>(systems.map((system) => [system, []]));
    for (let r = 0; r < options.runs; r++) {
      for (const system of systems) {
        const res = await runOnce({ startSaga: system.startSaga, n: options.n, concurrency: options.concurrency, deadlineS: options.deadlineS, runTag: `${wl}-${tagOf(system)}-${stamp}-${r}`, failShipment, expect: failShipment ? 'compensated' : 'completed', pids: system.pids, traffic: options.traffic, loops: system.loops, ids: options.ids });
        console.log(
          `[${name(system)}] ${wl} run ${r + 1}: N=${res.n} wall=${res.wallS}s ${res.sagasPerS}/s p50=${res.p50} p95=${res.p95} p99=${res.p99} ms errors=${res.errors} wrong=${res.wrong} ` +
            `cpuBusy=${res.cpuBusyPct}% iowait=${res.cpuIowaitPct}% driverCpu=${res.driverCpuS}s procCpu=${JSON.stringify(res.procCpuS)}${describeLoops(res.loopBusyPct)} load1=${res.loadAvg1.join('→')}` +
            describeTraffic(res.natsPerSaga) +
            (res.firstErr === null ? '' : `\n  first error: ${res.firstErr}`),
        );
        runs.get(system)?.push(res);
      }
    }
    for (const system of systems) {
      const series = seriesOf(runs.get(system) ?? [], system.pids);
      const target = out[system.label];
      if (target !== undefined) target[wl] = series;
      const m = series.median;
      console.log(
        `[${name(system)}] ${wl} MEDIAN of ${series.runs.length}: N=${m.n} wall=${m.wallS}s ${m.sagasPerS}/s p50=${m.p50} p95=${m.p95} p99=${m.p99} ms cpuBusy=${m.cpuBusyPct}% procCpu=${JSON.stringify(series.procCpuSMedian)}${describeLoops(series.loopBusyPctMedian)}` +
          describeTraffic(series.natsPerSagaMedian),
      );
    }
  }
  return out;
}

/** The medians of a series of runs, each column on its own. */
function seriesOf(runs: RunResult[], pids: Record<string, number>): Series {
  const pick = (k: keyof Series['median']): number => median(runs.map((x) => x[k]));
  const medianOf = { n: pick('n'), wallS: pick('wallS'), sagasPerS: pick('sagasPerS'), p50: pick('p50'), p95: pick('p95'), p99: pick('p99'), cpuBusyPct: pick('cpuBusyPct') };
  const procCpuSMedian = mediansByName(runs.map((run) => run.procCpuS), Object.keys(pids));
  const traffic = runs.flatMap((run) => (run.natsPerSaga === undefined ? [] : [run.natsPerSaga]));
  const trafficMedian = (k: keyof TrafficPerSaga): number => median(traffic.map((t) => t[k]));
  const natsPerSagaMedian = traffic.length === 0 ? undefined : { msgsIn: trafficMedian('msgsIn'), msgsOut: trafficMedian('msgsOut'), kbIn: trafficMedian('kbIn'), kbOut: trafficMedian('kbOut') };
  const loops = runs.flatMap((run) => (run.loopBusyPct === undefined ? [] : [run.loopBusyPct]));
  const loopNames = [...new Set(loops.flatMap((busy) => Object.keys(busy)))];
  const loopBusyPctMedian = mediansByName(loops, loopNames);
  return {
    median: medianOf,
    procCpuSMedian,
    ...(natsPerSagaMedian === undefined ? {} : { natsPerSagaMedian }),
    ...(loopNames.length === 0 ? {} : { loopBusyPctMedian }),
    runs,
  };
}

/** The median of each named figure over the runs' records, of the runs that have it. */
const mediansByName = (records: readonly Record<string, number>[], names: readonly string[]): Record<string, number> =>
  Object.fromEntries(names.map((name) => [name, median(records.flatMap((record) => record[name] ?? []))]));

const describeLoops = (busy: Record<string, number> | undefined): string => (busy === undefined || Object.keys(busy).length === 0 ? '' : ` loopBusy=${JSON.stringify(busy)}`);
