/**
 * The targets `npm run bench` prints a line for (issue 21, the performance round two, and the ones of
 * issue 8 measured by benches of their own), each with its value, a verdict and the peers alongside.
 */
import { floorOf, type CommitFloor } from './commit-floor.js';
import { cpuMsPerSaga, median, type Series } from './harness.js';
import type { PeerFigure, PeerFigures } from './peers.js';

/** What a deployment's runs gave, as far as the targets go. */
export interface PhaseFigures {
  readonly c100: Record<string, Series>;
  readonly c1: Record<string, Series> | null;
  readonly peakRssMb: Record<string, number | null>;
}

/** One level of the in-flight curve (`--curve`): a series at that many in flight, and the engine's peak RSS so far. */
export interface CurvePoint {
  readonly concurrency: number;
  readonly workload: string;
  readonly series: Series;
  readonly engineRssMb: number | null;
}

/** One line of the targets table. */
export interface TargetLine {
  readonly target: string;
  readonly value: number | null;
  readonly unit: string;
  readonly goal: number;
  readonly higherIsBetter: boolean;
  readonly verdict: string;
  readonly vsPeer: string;
}

/** A target line: `value` against `goal`, the verdict, and how it compares with `peer` when given. */
export function line(target: string, value: number | null | undefined, unit: string, goal: number, higherIsBetter: boolean, peer?: PeerFigure, note = ''): TargetLine {
  let verdict = note || 'not measured';
  let vsPeer = '';
  if (value !== null && value !== undefined && Number.isFinite(value)) {
    const met = higherIsBetter ? value >= goal : value <= goal;
    const gap = Math.abs(value - goal);
    const by = `missed by ${gap.toFixed(unit === '×' ? 2 : 1)}${unit === '%' ? ' points' : unit}`;
    verdict = met ? 'met' : higherIsBetter ? `${by} (${((100 * value) / goal).toFixed(0)}% of target)` : `${by} (${(value / goal).toFixed(1)}× target)`;
    if (peer !== undefined) vsPeer = `${(higherIsBetter ? value / peer.value : peer.value / value).toFixed(2)}× ${peer.who} (${peer.value}${unit})`;
  }
  return { target, value: value ?? null, unit, goal, higherIsBetter, verdict, vsPeer };
}

const workloads = ['W1', 'W2'] as const;

/** The median over the runs of a process's CPU per saga, ms (NaN without runs). */
const medianCpuMs = (series: Series | undefined, process: string): number => median((series?.runs ?? []).map((run) => cpuMsPerSaga(run, process)).filter(Number.isFinite));
const fixed = (x: number, digits: number): string => (Number.isFinite(x) ? x.toFixed(digits) : '?');

/** The target lines of one bench run. */
export function targetLines(
  sf: PhaseFigures | null,
  base: PhaseFigures | null,
  peers: PeerFigures,
  floor: CommitFloor | null,
  curve: readonly CurvePoint[],
): TargetLine[] {
  const lines: TargetLine[] = [];
  const w = (phase: PhaseFigures | null, wl: string) => phase?.c100[wl]?.median;
  for (const wl of workloads) {
    const own = w(sf, wl)?.sagasPerS;
    for (const [peer, times] of [
      ['Restate', 5],
      ['DBOS', 7],
    ] as const) {
      const figure = peers[wl].sagasPerSOf[peer];
      lines.push(line(`${wl} sagas/s at 100 in flight ≥ ${times}× ${peer} (${figure.who}: ${figure.value}/s)`, own === undefined ? null : own / figure.value, '×', times, true));
    }
  }
  lines.push(line('W1 sagas/s at 100 in flight ≥ 3000', w(sf, 'W1')?.sagasPerS, '/s', 3000, true, peers.W1.sagasPerS));
  lines.push(line('W2 sagas/s at 100 in flight ≥ 2400', w(sf, 'W2')?.sagasPerS, '/s', 2400, true, peers.W2.sagasPerS));
  for (const wl of workloads) {
    const limit = w(base, wl)?.sagasPerS;
    const paired = (sf?.c100[wl]?.runs ?? []).map((run, r) => (100 * run.sagasPerS) / (base?.c100[wl]?.runs[r]?.sagasPerS ?? NaN)).filter(Number.isFinite);
    const lowest = paired.length === 0 ? null : Math.min(...paired);
    lines.push(line(`${wl} throughput ≥ 50% of the transport baseline (${limit ?? '?'}/s), every pair (${paired.map((x) => `${x.toFixed(1)}%`).join(', ') || '—'})`, lowest, '%', 50, true));
  }
  const engine = medianCpuMs(sf?.c100.W1, 'engine');
  const relay = medianCpuMs(base?.c100.W1, 'relay');
  const worker = medianCpuMs(sf?.c100.W1, 'worker');
  const echo = medianCpuMs(base?.c100.W1, 'echo');
  lines.push(line(`engine CPU per W1 saga ≤ 0.20 ms (relay ${fixed(relay, 3)} ms, engine/relay ${fixed(engine / relay, 1)}×)`, engine, ' ms', 0.2, false));
  lines.push(line(`worker CPU per W1 saga ≤ 0.12 ms (echo ${fixed(echo, 3)} ms, worker/echo ${fixed(worker / echo, 1)}×)`, worker, ' ms', 0.12, false));
  for (const wl of workloads) {
    const bytes = (phase: PhaseFigures | null): number => {
      const t = phase?.c100[wl]?.natsPerSagaMedian;
      return t === undefined ? Number.NaN : t.kbIn + t.kbOut;
    };
    const ratio = bytes(sf) / bytes(base);
    lines.push(line(`${wl} bytes on the wire per saga ≤ 1.5× the baseline's (in + out: ${fixed(bytes(sf), 2)} KB against ${fixed(bytes(base), 2)} KB)`, ratio, '×', 1.5, false));
  }
  lines.push(line('W1 p99 at 100 in flight ≤ 100 ms', w(sf, 'W1')?.p99, ' ms', 100, false, peers.W1.p99));
  lines.push(line('W2 p99 at 100 in flight ≤ 100 ms', w(sf, 'W2')?.p99, ' ms', 100, false, peers.W2.p99));
  for (const wl of workloads) {
    const p50 = sf?.c1?.[wl]?.median.p50;
    const baseP50 = base?.c1?.[wl]?.median.p50;
    const limit = floor === null || baseP50 === undefined ? null : floorOf(floor, wl, baseP50);
    const commits = floor?.commitsPerSaga[wl];
    const how = limit === null ? 'floor unknown: needs the baseline at concurrency 1' : `floor ${limit.toFixed(2)} ms = baseline ${baseP50} + ${commits} commits × ${floor?.commitMs} ms`;
    lines.push(line(`${wl} p50 at concurrency 1 within 0.5 ms of its floor (p50 ${p50 ?? '?'} ms; ${how})`, p50 === undefined || limit === null ? null : p50 - limit, ' ms', 0.5, false, peers[wl].p50c1));
  }
  for (const wl of workloads) {
    const points = curve.filter((point) => point.workload === wl);
    const at100 = points.find((point) => point.concurrency === 100)?.series.median.sagasPerS;
    for (const point of points.filter((each) => each.concurrency > 100)) {
      const m = point.series.median;
      lines.push(line(`${wl} sagas/s at ${point.concurrency} in flight ≥ at 100 (${at100 ?? '?'}/s; p99 ${m.p99} ms)`, at100 === undefined ? null : m.sagasPerS / at100, '×', 1, true));
    }
  }
  const at5000 = curve.filter((point) => point.concurrency === 5000).map((point) => point.engineRssMb ?? Number.NaN);
  lines.push(
    line('engine RSS at 5,000 in flight ≤ 250 MB', at5000.length === 0 ? null : Math.max(...at5000), ' MB', 250, false, undefined, 'not measured: run the curve (--curve …,5000)'),
  );
  lines.push(line('engine RSS with 10,000 in-flight instances ≤ 250 MB', null, ' MB', 250, false, undefined, `see \`npm run bench -- --only scale\` (peak engine RSS in this run: ${sf?.peakRssMb.engine ?? '?'} MB)`));
  lines.push(line('recovery of 10,000 in-flight instances after kill -9 ≤ 10 s', null, ' s', 10, false, undefined, 'see `npm run bench -- --only scale`'));
  lines.push(line('`sagaflow list` over 100,000 instances ≤ 1 s', null, ' s', 1, false, undefined, 'see `npm run bench -- --only list` (docs/benchmarks.md)'));
  return lines;
}

/** The curve over the in-flight levels, a row per level and workload. */
export function curveTable(curve: readonly CurvePoint[]): string[] {
  if (curve.length === 0) return [];
  return [
    '| Sagaflow, in flight | wl | N | sagas/s | p50 / p95 / p99 ms | engine CPU ms per saga | engine peak RSS MB (so far) |',
    '|---|---|---|---|---|---|---|',
    ...curve.map((point) => {
      const m = point.series.median;
      return `| ${point.concurrency} | ${point.workload} | ${m.n} | ${m.sagasPerS} | ${m.p50} / ${m.p95} / ${m.p99} | ${fixed(medianCpuMs(point.series, 'engine'), 3)} | ${point.engineRssMb ?? '?'} |`;
    }),
    '',
  ];
}

