import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEsdbTestServer, type EsdbTestServer } from './esdb/esdb-test-server.js';
import { cliEnv, runNode } from './support/cli.js';

/**
 * `npm run bench` end to end, small: its own nats-server, the engine as `sagaflow run`, the worker, the
 * transport baseline, the driver. It checks that every saga of every run reached the terminal state its
 * workload dictates and that the bench removes what it made; the figures themselves are not checked
 * (speed is measured by the bench, never by a test).
 */
let server: EsdbTestServer | null = null;
const dirs: string[] = [];
afterEach(async () => {
  await server?.close();
  server = null;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface RunLine {
  readonly n: number;
  readonly ok: number;
  readonly errors: number;
  readonly wrong: number;
}
interface Results {
  readonly sagaflow: { store: string; journalMode: string | null; engine: string; c100: Record<string, { runs: RunLine[] }>; c1: Record<string, { runs: RunLine[] }> };
  readonly sagaflowTsx: { engine: string; c100: Record<string, { runs: RunLine[] }>; c1: Record<string, { runs: RunLine[] }> } | null;
  readonly baseline: { c100: Record<string, { runs: RunLine[] }> } | null;
  readonly targets: readonly { readonly target: string; readonly value: number | null }[];
  readonly commitFloor: { readonly commitMs: number; readonly commitsPerSaga: Record<string, number> } | null;
  readonly curve: readonly { readonly concurrency: number; readonly workload: string; readonly series: { runs: RunLine[] }; readonly engineRssMb: number | null }[];
}

const small = ['--workloads', 'W1,W2', '--n', '20', '--warmup', '5', '--concurrency', '10', '--runs', '1', '--c1-n', '3', '--c1-warmup', '0', '--c1-runs', '1'];

/** Runs the bench with a temporary directory of its own as TMPDIR, so what it leaves behind can be seen. */
async function bench(args: readonly string[]): Promise<{ results: Results; tmp: string; stdout: string }> {
  const tmp = mkdtempSync(join(tmpdir(), 'sagaflow-bench-run-'));
  dirs.push(tmp);
  const out = join(tmp, 'results.json');
  const run = await runNode(['--import', 'tsx', 'bench/saga-throughput.ts', ...small, ...args, '--out', out], cliEnv({ TMPDIR: tmp }));
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return { results: JSON.parse(readFileSync(out, 'utf8')) as Results, tmp, stdout: run.stdout };
}

/** What the bench made in TMPDIR and did not remove (its store and nats-server directories); tsx's own cache is not the bench's. */
const leftBehind = (tmp: string): string[] => readdirSync(tmp).filter((name) => name.startsWith('sagaflow-'));

const allSettled = (series: Record<string, { runs: RunLine[] }>, n: number): void => {
  for (const workload of ['W1', 'W2']) {
    expect(series[workload]?.runs.map(({ n: count, ok, errors, wrong }) => ({ count, ok, errors, wrong }))).toEqual([{ count: n, ok: n, errors: 0, wrong: 0 }]);
  }
};

describe('npm run bench, small runs', () => {
  it('on the default SQLite store, compiled and through tsx, next to the transport baseline: every saga ends as its workload says, nothing is left behind', async () => {
    const { results, tmp, stdout } = await bench(['--only', 'sagaflow,sagaflow-tsx,baseline', '--curve', '5,15']);
    expect(results.sagaflow.journalMode).toBe('wal');
    expect(results.sagaflow.engine).toBe('compiled');
    allSettled(results.sagaflow.c100, 20);
    allSettled(results.sagaflow.c1, 3);
    expect(results.sagaflowTsx?.engine).toBe('tsx');
    allSettled(results.sagaflowTsx?.c100 ?? {}, 20);
    allSettled(results.sagaflowTsx?.c1 ?? {}, 3);
    expect(stdout).toMatch(/^\| W1 \| 10 \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \/ [\d.]+ \|$/mu);
    expect(results.baseline).not.toBeNull();
    allSettled(results.baseline?.c100 ?? {}, 20);
    expect(results.targets.length).toBeGreaterThan(0);
    expect(stdout).toContain('| target | value | verdict |');
    // The curve: a run per workload at each level (N = twice the level, at least --n), every saga ended as dictated.
    expect(results.curve.map((point) => [point.concurrency, point.workload, point.series.runs.map((run) => [run.n, run.ok, run.errors, run.wrong])])).toEqual([
      [5, 'W1', [[20, 20, 0, 0]]],
      [5, 'W2', [[20, 20, 0, 0]]],
      [15, 'W1', [[30, 30, 0, 0]]],
      [15, 'W2', [[30, 30, 0, 0]]],
    ]);
    expect(results.curve.every((point) => (point.engineRssMb ?? 0) > 0)).toBe(true);
    expect(stdout).toMatch(/^\| 15 \| W2 \| 30 \| /mu);
    // The p50 floor: a measured commit time and the commits of each workload's saga (one per input decided).
    expect(results.commitFloor?.commitsPerSaga).toEqual({ W1: 4, W2: 6 });
    expect(results.commitFloor?.commitMs).toBeGreaterThan(0);
    expect(results.targets.find((line) => line.target.startsWith('W1 p50 at concurrency 1 within 0.5 ms of its floor'))?.value).not.toBeNull();
    expect(leftBehind(tmp)).toEqual([]);
  });

  it('with --store esdb://… (the EventStoreDB wire-level test double): the engine records every saga there', async () => {
    server = await startEsdbTestServer();
    const { results, tmp } = await bench(['--only', 'sagaflow', '--store', server.url, '--curve', 'none']);
    expect(results.sagaflow.store).toBe(server.url);
    expect(results.sagaflowTsx).toBeNull();
    expect(results.sagaflow.journalMode).toBeNull();
    allSettled(results.sagaflow.c100, 20);
    allSettled(results.sagaflow.c1, 3);
    const ended = new Map<string, number>();
    for (const event of server.log) {
      if (event.streamName.startsWith('sagaflow_instance-') && (event.type === 'SagaCompleted' || event.type === 'SagaCompensated')) {
        ended.set(event.type, (ended.get(event.type) ?? 0) + 1);
      }
    }
    // W1 and W2: the run (20) and the concurrency-1 run (3); the warm-up (5, before the runs) is of sagas that complete.
    expect(Object.fromEntries(ended)).toEqual({ SagaCompleted: 28, SagaCompensated: 23 });
    expect(leftBehind(tmp)).toEqual([]);
  });
});
