/**
 * The read-only commands (list, show, stats, watch) and the one-line errors, run as the real
 * binary against a SQLite store filled by a real engine (in process, the CLI test saga), plus
 * usage errors and unreachable stores and NATS servers.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createRegistry, type EventStore, type ReplyOutcome, type SagaStatus } from '@sagaflow/core';
import { createInProcessTransport, Engine, type Clock } from '@sagaflow/engine';
import { openSqliteEventStore } from '@sagaflow/store-sqlite';
import cliRepair, { type CliRepairInput } from '../fixtures/cli-sagas/cli-repair.saga.js';
import { cliEnv, sagaflow, sagaflowJson, stderrLines } from '../support/cli.js';
import { freePort } from '../support/nats-server.js';
import { sagaflowFromSources, spawnNode } from '../support/processes.js';

const registry = createRegistry([cliRepair]);
const day = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'sagaflow-cli-'));
const storePath = join(dir, 'sagaflow.db');
const store = ['--store', `sqlite:${storePath}`];

interface InstanceRow {
  instanceId: string;
  saga: string;
  version: number;
  status: SagaStatus;
  currentStep: string | null;
  attempts: number;
  revision: number;
  state: unknown;
  startedAt: string;
  updatedAt: string;
}
interface ListOutput {
  instances: InstanceRow[];
  count: number;
  limit: number;
  more: boolean;
  next: string | null;
  filter: { saga: string | null; statuses: string[]; since: string | null; after: string | null };
}
interface TimelineEntry {
  revision: number;
  position: number;
  at: string;
  recordedAt: string;
  type: string;
  status: SagaStatus;
  statusChanged: boolean;
  kind: string;
  compensation: boolean;
  step: string | null;
  attempt: number | null;
  effectId: string | null;
  outcome: string;
  error: { code: string; message: string; retryable: boolean | null } | null;
  durationMs: number | null;
  operator: { action: string; by: string; reason: string; step: string | null } | null;
  timer: { timerId: string; purpose: string; dueAt: string; delayMs: number } | null;
  payload: unknown;
}
interface ShowOutput extends InstanceRow {
  input: unknown;
  failure: { step: string | null; code: string; message: string; at: string } | null;
  stuck: { kind: string; step: string | null; code: string; message: string; at: string } | null;
  timeline: TimelineEntry[];
  stepAttempts: { step: string; kind: string; attempt: number; effectId: string; dispatchedAt: string; endedAt: string | null; outcome: string; durationMs: number | null }[];
}
interface StatsFigures {
  instances: number;
  byStatus: Partial<Record<SagaStatus, number>>;
  retryRate: number | null;
  compensationRate: number | null;
}
interface StatsOutput {
  window: { limit: number; instances: number; capped: boolean; saga: string | null; since: string | null; oldestChange: string | null; newestChange: string | null };
  total: StatsFigures;
  sagas: (StatsFigures & {
    saga: string;
    steps: { step: string; kind: string; attempts: number; retries: number; succeeded: number; failed: number; timedOut: number; deadLettered: number; latencyMs: { samples: number; p50: number; p95: number; p99: number; max: number } | null }[];
  })[];
  unreadable: string[];
}

const input = (key: string, charge: CliRepairInput['charge'], compensationFails = false): CliRepairInput => ({ key, charge, compensationFails });

/** An engine in this process with handlers that behave as test/support/cli-worker.ts does. */
function engineOn(eventStore: EventStore, clock?: Clock) {
  const transport = createInProcessTransport();
  const answer = (outcome: ReplyOutcome) => Promise.resolve(outcome);
  transport.register('reserve', (effect) => answer({ ok: true, reply: { reservationId: `res-${effect.instanceId}` } }));
  transport.register('release', (effect) =>
    answer((effect.command as { fails: boolean }).fails ? { ok: false, error: { code: 'RefundServiceDown', message: 'the refund service is down' } } : { ok: true }),
  );
  transport.register('charge', (effect) => {
    switch ((effect.command as { mode: string }).mode) {
      case 'decline':
        return answer({ ok: false, error: { code: 'Declined', message: 'card declined', retryable: false } });
      case 'flaky':
        return answer(effect.attempt === 1 ? { ok: false, error: { code: 'Busy', message: 'payment provider busy' } } : { ok: true, reply: { paymentId: 'pay' } });
      case 'hang':
        return new Promise<ReplyOutcome>(() => undefined);
      default:
        return answer({ ok: true, reply: { paymentId: 'pay' } });
    }
  });
  return { engine: new Engine({ store: eventStore, registry, transport, ...(clock === undefined ? {} : { clock }) }), transport };
}

async function waitForStatus(eventStore: EventStore, wanted: Record<string, SagaStatus>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const rows = await Promise.all(Object.keys(wanted).map((id) => eventStore.getInstance(id)));
    if (rows.every((row) => row !== undefined && row.status === wanted[row.instanceId])) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`instances did not reach ${JSON.stringify(wanted)}`);
}

async function run(eventStore: EventStore, instances: Record<string, CliRepairInput>, wanted: Record<string, SagaStatus>, clock?: Clock): Promise<void> {
  const { engine, transport } = engineOn(eventStore, clock);
  await engine.start();
  for (const [id, value] of Object.entries(instances)) expect(E.isRight(await engine.startSaga('cli-repair', id, value))).toBe(true);
  await waitForStatus(eventStore, wanted);
  await engine.stop();
  await transport.close();
}

beforeAll(async () => {
  const eventStore = openSqliteEventStore(storePath);
  // Three days ago (the engine's clock stamps the events and the listing rows).
  const past: Clock = { now: () => Date.now() - 3 * day };
  await run(eventStore, { 'old-1': input('old-1', 'ok'), 'old-2': input('old-2', 'decline') }, { 'old-1': 'completed', 'old-2': 'compensated' }, past);
  await run(
    eventStore,
    {
      'ok-1': input('ok-1', 'ok'),
      'flaky-1': input('flaky-1', 'flaky'),
      'decline-1': input('decline-1', 'decline'),
      'stuck-1': input('stuck-1', 'decline', true),
      'hang-1': input('hang-1', 'hang'),
      'corrupt-1': input('corrupt-1', 'ok'),
    },
    { 'ok-1': 'completed', 'flaky-1': 'completed', 'decline-1': 'compensated', 'stuck-1': 'stuck', 'hang-1': 'running', 'corrupt-1': 'completed' },
  );
  await eventStore.close();
  const raw = new Database(storePath);
  raw.prepare("UPDATE events SET json = json_set(json, '$.attempt', 'two') WHERE instance_id = 'corrupt-1' AND type = 'StepDispatched'").run();
  raw.close();
}, 30_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ids = (output: ListOutput): string[] => output.instances.map((row) => row.instanceId);

describe('sagaflow list', () => {
  it('lists every instance newest change first, with the listing fields', async () => {
    const all = await sagaflowJson<ListOutput>(['list', ...store]);
    expect(all.count).toBe(8);
    expect(all.more).toBe(false);
    expect(all.next).toBeNull();
    expect(new Set(ids(all))).toEqual(new Set(['old-1', 'old-2', 'ok-1', 'flaky-1', 'decline-1', 'stuck-1', 'hang-1', 'corrupt-1']));
    const times = all.instances.map((row) => Date.parse(row.updatedAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(ids(all).slice(-2).sort()).toEqual(['old-1', 'old-2']);
    const stuck = all.instances.find((row) => row.instanceId === 'stuck-1');
    expect(stuck?.saga).toBe('cli-repair');
    expect(stuck?.version).toBe(1);
    expect(stuck?.status).toBe('stuck');
    expect(stuck?.currentStep).toBe('reserve');
    expect(stuck?.state).toEqual({ compensating: { reserve: 'stuck' } });
    expect(stuck?.startedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/u);
    const hang = all.instances.find((row) => row.instanceId === 'hang-1');
    expect(hang?.status).toBe('running');
    expect(hang?.currentStep).toBe('charge');
    expect(hang?.attempts).toBe(1);
  });

  it('filters by status (repeated or comma-separated), saga and age, and pages with --limit and --after', async () => {
    const [stuck, finished, repeated, bySaga, otherSaga, recent, first, human] = await Promise.all([
      sagaflowJson<ListOutput>(['list', ...store, '--status', 'stuck']),
      sagaflowJson<ListOutput>(['list', ...store, '--status', 'completed,compensated']),
      sagaflowJson<ListOutput>(['list', ...store, '--status', 'running', '--status', 'stuck']),
      sagaflowJson<ListOutput>(['list', ...store, '--saga', 'cli-repair', '--status', 'compensated']),
      sagaflowJson<ListOutput>(['list', ...store, '--saga', 'order-fulfilment']),
      sagaflowJson<ListOutput>(['list', ...store, '--since', '1d']),
      sagaflowJson<ListOutput>(['list', ...store, '--limit', '3']),
      sagaflow(['list', ...store, '--status', 'stuck']),
    ]);
    expect(ids(stuck)).toEqual(['stuck-1']);
    expect(stuck.filter.statuses).toEqual(['stuck']);
    expect(new Set(ids(finished))).toEqual(new Set(['old-1', 'old-2', 'ok-1', 'flaky-1', 'decline-1', 'corrupt-1']));
    expect(new Set(ids(repeated))).toEqual(new Set(['stuck-1', 'hang-1']));
    expect(new Set(ids(bySaga))).toEqual(new Set(['old-2', 'decline-1']));
    expect(otherSaga.count).toBe(0);
    expect(ids(recent)).not.toContain('old-1');
    expect(recent.count).toBe(6);
    expect(Date.parse(recent.filter.since ?? '')).toBeGreaterThan(Date.now() - day - 60_000);

    expect(first.count).toBe(3);
    expect(first.more).toBe(true);
    expect(first.next).toMatch(/^\d+:/u);
    const second = await sagaflowJson<ListOutput>(['list', ...store, '--limit', '3', '--after', first.next ?? '']);
    const third = await sagaflowJson<ListOutput>(['list', ...store, '--limit', '3', '--after', second.next ?? '']);
    expect(third.more).toBe(false);
    expect([...ids(first), ...ids(second), ...ids(third)]).toEqual(ids(await sagaflowJson<ListOutput>(['list', ...store])));

    expect(human.code).toBe(0);
    const [header, row, ...rest] = human.stdout.trimEnd().split('\n');
    expect(header?.split(/\s{2,}/u)).toEqual(['ID', 'SAGA', 'VER', 'STATUS', 'CURRENT STEP', 'ATT', 'AGE', 'LAST CHANGE']);
    expect(row).toMatch(/^stuck-1\s+cli-repair\s+1\s+stuck\s+reserve\s+\d+\s+\d+s\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/u);
    expect(rest).toEqual([]);
    expect(human.stdout).not.toContain('\u001b['); // not a terminal: no colour
  });

  it('refuses bad statuses, durations and limits as usage errors (exit 2, one line)', async () => {
    const results = await Promise.all([
      sagaflow(['list', ...store, '--status', 'stuck,bogus']),
      sagaflow(['list', ...store, '--since', '5 minutes']),
      sagaflow(['list', ...store, '--limit', '0']),
      sagaflow(['list', ...store, '--limit', 'ten']),
      sagaflow(['list', ...store, '--after', 'nope']),
      sagaflow(['list', ...store, '--colour']),
    ]);
    for (const result of results) {
      expect(result.code).toBe(2);
      expect(stderrLines(result)).toHaveLength(1);
      expect(result.stdout).toBe('');
    }
    expect(results[0]?.stderr).toBe('sagaflow: Unknown status "bogus": use pending, running, compensating, completed, compensated, cancelled, stuck (see "sagaflow list --help")\n');
    expect(results[1]?.stderr).toMatch(/--since takes a duration such as 90s, 15m, 2h, 7d or 1w, not "5 minutes"/u);
    expect(results[2]?.stderr).toMatch(/--limit must be an integer from 1 to 100000, not "0"/u);
    expect(results[5]?.stderr).toMatch(/Unknown option '--colour'/u);
  });
});

describe('sagaflow show', () => {
  it('shows a completed instance: input, status and a timeline with the duration of each attempt', async () => {
    const shown = await sagaflowJson<ShowOutput>(['show', 'flaky-1', ...store]);
    expect(shown.instanceId).toBe('flaky-1');
    expect(shown.status).toBe('completed');
    expect(shown.input).toEqual(input('flaky-1', 'flaky'));
    expect(shown.failure).toBeNull();
    expect(shown.stuck).toBeNull();
    expect(shown.timeline.map((entry) => entry.revision)).toEqual(shown.timeline.map((_, index) => index));
    expect(shown.timeline.at(-1)?.revision).toBe(shown.revision);
    const types = shown.timeline.filter((entry) => entry.step === 'charge' || entry.type.startsWith('Saga')).map((entry) => `${entry.type}${entry.attempt === null ? '' : `#${entry.attempt}`}`);
    expect(types).toEqual([
      'SagaStarted',
      'StepDispatched#1',
      'TimerScheduled',
      'StepFailed#1',
      'RetryScheduled',
      'TimerFired',
      'StepDispatched#2',
      'TimerScheduled',
      'StepSucceeded#2',
      'SagaCompleted',
    ]);
    const failed = shown.timeline.find((entry) => entry.type === 'StepFailed');
    expect(failed).toMatchObject({ kind: 'action', compensation: false, step: 'charge', attempt: 1, outcome: 'failed', error: { code: 'Busy', message: 'payment provider busy', retryable: true } });
    expect(failed?.durationMs).toBeGreaterThanOrEqual(0);
    const retry = shown.timeline.find((entry) => entry.type === 'RetryScheduled');
    expect(retry).toMatchObject({ kind: 'action', step: 'charge', outcome: 'retryScheduled', timer: { purpose: 'stepRetry' } });
    expect(retry?.timer?.delayMs).toBeGreaterThan(0);
    const succeeded = shown.timeline.find((entry) => entry.type === 'StepSucceeded' && entry.step === 'charge');
    expect(succeeded).toMatchObject({ outcome: 'succeeded', attempt: 2, payload: { paymentId: 'pay' }, status: 'completed', statusChanged: true });
    expect(typeof succeeded?.durationMs).toBe('number');
    expect(shown.timeline.filter((entry) => entry.statusChanged).map((entry) => entry.status)).toEqual(['running', 'completed']);
    expect(shown.stepAttempts.map((attempt) => `${attempt.kind} ${attempt.step} ${attempt.attempt} ${attempt.outcome}`)).toEqual([
      'action reserve 1 succeeded',
      'action charge 1 failed',
      'action charge 2 succeeded',
    ]);
    for (const attempt of shown.stepAttempts) expect(Date.parse(attempt.endedAt ?? '') - Date.parse(attempt.dispatchedAt)).toBe(attempt.durationMs);
  });

  it('shows a compensated instance with its failure and the compensations marked', async () => {
    const [shown, human] = await Promise.all([sagaflowJson<ShowOutput>(['show', 'decline-1', ...store]), sagaflow(['show', 'decline-1', ...store])]);
    expect(shown.status).toBe('compensated');
    expect(shown.failure).toMatchObject({ step: 'charge', code: 'Declined', message: 'card declined' });
    const compensations = shown.timeline.filter((entry) => entry.compensation);
    expect(compensations.map((entry) => entry.type)).toEqual(['CompensationDispatched', 'TimerScheduled', 'CompensationSucceeded']);
    for (const entry of compensations) expect(entry).toMatchObject({ kind: 'compensation', step: 'reserve' });
    expect(compensations[2]?.durationMs).toBeGreaterThanOrEqual(0);
    expect(shown.timeline.filter((entry) => entry.statusChanged).map((entry) => entry.status)).toEqual(['running', 'compensating', 'compensated']);
    expect(shown.stepAttempts.map((attempt) => `${attempt.kind} ${attempt.step} ${attempt.outcome}`)).toEqual([
      'action reserve succeeded',
      'action charge failed',
      'compensation reserve succeeded',
    ]);

    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^decline-1 {2}cli-repair v1$/mu);
    expect(human.stdout).toMatch(/failure {6}charge: Declined: card declined/u);
    expect(human.stdout).toMatch(/CompensationSucceeded\s+compensation\s+reserve\s+1\s+succeeded\s+\d+ms\s+compensated/u);
    expect(human.stdout).toMatch(/StepFailed\s+step\s+charge\s+1\s+failed: Declined: card declined \(not retryable\)/u);
  });

  it('shows why a stuck instance is stuck', async () => {
    const shown = await sagaflowJson<ShowOutput>(['show', 'stuck-1', ...store]);
    expect(shown.status).toBe('stuck');
    expect(shown.failure).toMatchObject({ step: 'charge', code: 'Declined' });
    expect(shown.stuck).toMatchObject({ kind: 'compensation', step: 'reserve', code: 'RefundServiceDown', message: 'the refund service is down' });
    expect(shown.timeline.filter((entry) => entry.type === 'CompensationFailed').map((entry) => entry.attempt)).toEqual([1, 2]);
    expect(shown.timeline.at(-1)).toMatchObject({ type: 'SagaStuck', outcome: 'stuck', kind: 'compensation', statusChanged: false });
  });

  it('an unknown id or a corrupted instance: one line, exit 1, no stack trace (unless --verbose)', async () => {
    const [unknown, corrupt, verbose, noId] = await Promise.all([
      sagaflow(['show', 'nope', ...store]),
      sagaflow(['show', 'corrupt-1', ...store]),
      sagaflow(['show', 'nope', ...store, '--verbose']),
      sagaflow(['show', ...store]),
    ]);
    expect(unknown).toEqual({ code: 1, stdout: '', stderr: 'sagaflow: No saga instance "nope"\n' });
    expect(corrupt.code).toBe(1);
    expect(stderrLines(corrupt)).toEqual([expect.stringMatching(/^sagaflow: Corrupted event at revision \d+ of instance "corrupt-1": attempt: expected number, got "two"$/u)]);
    expect(verbose.code).toBe(1);
    expect(stderrLines(verbose).length).toBeGreaterThan(2);
    expect(verbose.stderr).toMatch(/\n\s+at /u);
    expect(noId).toMatchObject({ code: 2, stderr: 'sagaflow: Missing ID: sagaflow show ID (see "sagaflow show --help")\n' });
  });
});

describe('sagaflow stats', () => {
  it('counts per saga and status, step latency percentiles, retry and compensation rates', async () => {
    const [stats, capped, none, human] = await Promise.all([
      sagaflowJson<StatsOutput>(['stats', ...store]),
      sagaflowJson<StatsOutput>(['stats', ...store, '--window', '3']),
      sagaflowJson<StatsOutput>(['stats', ...store, '--saga', 'order-fulfilment']),
      sagaflow(['stats', ...store, '--window', '3']),
    ]);
    expect(stats.window).toMatchObject({ limit: 1000, instances: 8, capped: false, saga: null, since: null });
    expect(stats.total.instances).toBe(8);
    expect(stats.total.byStatus).toEqual({ completed: 4, compensated: 2, stuck: 1, running: 1 });
    expect(stats.unreadable).toEqual(['corrupt-1']);
    const [saga] = stats.sagas;
    expect(stats.sagas).toHaveLength(1);
    expect(saga?.saga).toBe('cli-repair');
    // 7 readable instances; 3 of them compensated or began to (old-2, decline-1, stuck-1).
    expect(saga?.compensationRate).toBeCloseTo(3 / 7, 3);
    const charge = saga?.steps.find((step) => step.step === 'charge' && step.kind === 'action');
    // charge: old-1, old-2, ok-1, flaky-1 (twice), decline-1, stuck-1, hang-1 = 8 attempts, 1 retry.
    expect(charge).toMatchObject({ attempts: 8, retries: 1, succeeded: 3, failed: 4, timedOut: 0 });
    expect(saga?.retryRate).toBeCloseTo(1 / (8 + 7), 3); // reserve: 7 attempts, no retry
    const reserve = saga?.steps.find((step) => step.step === 'reserve' && step.kind === 'action');
    expect(reserve?.latencyMs?.samples).toBe(7);
    const latency = reserve?.latencyMs ?? { p50: -1, p95: -1, p99: -1, max: -1 };
    expect(latency.p50).toBeGreaterThanOrEqual(0);
    expect(latency.p50).toBeLessThanOrEqual(latency.p95);
    expect(latency.p95).toBeLessThanOrEqual(latency.p99);
    expect(latency.p99).toBeLessThanOrEqual(latency.max);
    const release = saga?.steps.find((step) => step.step === 'reserve' && step.kind === 'compensation');
    expect(release).toMatchObject({ attempts: 4, retries: 1, succeeded: 2, failed: 2 });

    expect(capped.window).toMatchObject({ limit: 3, instances: 3, capped: true });
    expect(capped.total.instances).toBe(3);
    expect(none.window.instances).toBe(0);
    expect(none.sagas).toEqual([]);
    expect(human.stdout).toMatch(/^Over the 3 most recently changed instances \(window capped at --window 3: older instances are not counted\)$/mu);
  });
});

describe('sagaflow watch', () => {
  it('prints one line per status change from the current end of the store until SIGINT, then exits 0', async () => {
    const watch = spawnNode([...sagaflowFromSources, 'watch', ...store, '--json', '--poll-ms', '50'], cliEnv());
    const filtered = spawnNode([...sagaflowFromSources, 'watch', ...store, '--saga', 'order-fulfilment', '--poll-ms', '50'], cliEnv());
    const ready = (child: typeof watch) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`watch not ready: ${child.stderr.join('')}`)), 20_000);
        const check = (): void => {
          if (!child.stderr.join('').includes('watching')) return;
          clearTimeout(timer);
          resolve();
        };
        child.process.stderr?.on('data', check);
        check();
      });
    await Promise.all([ready(watch), ready(filtered)]);
    const eventStore = openSqliteEventStore(storePath);
    try {
      await run(eventStore, { 'live-1': input('live-1', 'ok'), 'live-2': input('live-2', 'decline') }, { 'live-1': 'completed', 'live-2': 'compensated' });
    } finally {
      await eventStore.close();
    }
    await watch.waitFor(/"to":"compensated"/u, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    watch.process.kill('SIGINT');
    filtered.process.kill('SIGTERM');
    expect(await watch.exited).toBe(0);
    expect(await filtered.exited).toBe(0);
    const changes = watch.lines.map((line) => JSON.parse(line) as { instanceId: string; saga: string; from: string | null; to: string; event: string; step: string | null; at: string; position: number });
    const of = (id: string) => changes.filter((change) => change.instanceId === id).map((change) => `${change.from ?? 'new'}>${change.to}`);
    expect(of('live-1')).toEqual(['new>running', 'running>completed']);
    expect(of('live-2')).toEqual(['new>running', 'running>compensating', 'compensating>compensated']);
    expect(changes.every((change) => change.saga === 'cli-repair')).toBe(true);
    expect(changes.find((change) => change.to === 'compensating')).toMatchObject({ instanceId: 'live-2', event: 'StepFailed', step: 'charge' });
    expect(new Set(changes.map((change) => change.instanceId))).toEqual(new Set(['live-1', 'live-2'])); // nothing from before it started
    expect(filtered.lines).toEqual([]);
  });
});

describe('a SQLite store on a worker thread of its own (sqlite:<path>?thread=true)', () => {
  it('reads the same rows; an unknown option of a sqlite: URL is a usage error naming the one it takes', async () => {
    const [plain, threaded, unknown] = await Promise.all([
      sagaflow(['list', '--json', '--limit', '5', ...store]),
      sagaflow(['list', '--json', '--limit', '5', '--store', `sqlite:${storePath}?thread=true`]),
      sagaflow(['list', '--store', `sqlite:${storePath}?fast=yes`]),
    ]);
    expect(threaded).toMatchObject({ code: 0, stderr: '' });
    expect(plain.stdout).toContain('"instanceId"');
    expect(threaded.stdout).toBe(plain.stdout);
    expect(unknown.code).toBe(2);
    expect(stderrLines(unknown)).toEqual([`sagaflow: Store URL "sqlite:${storePath}?fast=yes": sqlite:<path> takes one option, thread=true or thread=false, not "fast=yes" (see "sagaflow list --help")`]);
  });
});

describe('errors: one line, the right exit code', () => {
  it('an unsupported, missing or unreadable store', async () => {
    const notAStore = join(dir, 'not-a-store.db');
    writeFileSync(notAStore, 'this is not a SQLite database, just text that is long enough to have a header page..........'.repeat(20));
    const [unsupported, missing, unreadable, statsMissing, esdbDown] = await Promise.all([
      sagaflow(['list', '--store', 'postgres://user:secret@db/sagaflow']),
      sagaflow(['list', '--store', `sqlite:${join(dir, 'nowhere', 'sagaflow.db')}`]),
      sagaflow(['show', 'x', '--store', `sqlite:${notAStore}`]),
      sagaflow(['stats'], cliEnv({ SAGAFLOW_STORE: `sqlite:${join(dir, 'missing.db')}` })),
      sagaflow(['list', '--store', `esdb://admin:changeit@127.0.0.1:1?tls=false&listing=${join(dir, 'esdb-listing.db')}`]),
    ]);
    expect(unsupported).toMatchObject({ code: 2, stdout: '' });
    expect(stderrLines(unsupported)).toEqual(['sagaflow: Unsupported store URL "postgres://user:***@db/sagaflow": use sqlite:<path>, esdb://host:port?tls=false or memory: (see "sagaflow list --help")']);
    expect(missing.code).toBe(1);
    expect(stderrLines(missing)).toEqual([`sagaflow: No event store at ${join(dir, 'nowhere', 'sagaflow.db')} (store sqlite:${join(dir, 'nowhere', 'sagaflow.db')}): check --store or SAGAFLOW_STORE`]);
    expect(unreadable.code).toBe(1);
    expect(stderrLines(unreadable)).toEqual([expect.stringMatching(/^sagaflow: Event store .*not-a-store\.db is unavailable: .*not a SQLite database/u)]);
    expect(statsMissing.code).toBe(1);
    expect(stderrLines(statsMissing)).toEqual([expect.stringMatching(/^sagaflow: No event store at .*missing\.db/u)]);
    expect(esdbDown.code).toBe(1);
    expect(stderrLines(esdbDown)).toEqual([expect.stringMatching(/^sagaflow: Event store esdb:\/\/admin:\*\*\*@127\.0\.0\.1:1\?tls=false is unavailable: /u)]);
  });

  it('malformed --input JSON, an input the saga refuses, and a NATS URL that does not answer', async () => {
    const port = await freePort();
    const nats = ['--nats', `nats://127.0.0.1:${port}`];
    const sagas = ['--sagas', 'test/fixtures/cli-sagas'];
    const [malformed, refused, unknownSaga, noNats, retryNoNats, dlqNoNats] = await Promise.all([
      sagaflow(['start', 'cli-repair', '--input', '{"key": "k",', ...sagas, ...nats]),
      sagaflow(['start', 'cli-repair', '--input', '{"key": "k", "charge": "maybe", "compensationFails": false}', ...sagas, ...nats]),
      sagaflow(['start', 'order-fulfilment', '--input', '{}', ...sagas, ...nats]),
      sagaflow(['start', 'cli-repair', '--input', JSON.stringify(input('k', 'ok')), ...sagas, ...nats]),
      sagaflow(['retry', 'x', '--reason', 'r', ...nats]),
      sagaflow(['dlq', 'list', ...nats]),
    ]);
    expect(malformed.code).toBe(2);
    expect(stderrLines(malformed)).toEqual([expect.stringMatching(/^sagaflow: --input is not valid JSON: .+ \(see "sagaflow start --help"\)$/u)]);
    expect(refused.code).toBe(1);
    expect(stderrLines(refused)).toEqual([expect.stringMatching(/^sagaflow: Invalid input for saga "cli-repair": charge: .*"maybe"/u)]);
    expect(unknownSaga.code).toBe(1);
    expect(stderrLines(unknownSaga)).toEqual(['sagaflow: Unknown saga "order-fulfilment"; known: cli-repair@1']);
    const refusedAt = `sagaflow: Cannot connect to NATS at nats://127.0.0.1:${port}: connection refused. Start a server with JetStream (nats-server -js) or set NATS_URL.`;
    for (const result of [noNats, retryNoNats, dlqNoNats]) expect(result).toEqual({ code: 1, stdout: '', stderr: `${refusedAt}\n` });
  });

  it('a start request in a namespace no engine has run in is refused, saying how to create its streams', async () => {
    const namespace = `nostreams${Date.now().toString(36)}`;
    const result = await sagaflow(['start', 'cli-repair', '--input', JSON.stringify(input('k', 'ok')), '--sagas', 'test/fixtures/cli-sagas', '--nats', inject('natsUrl'), '--namespace', namespace]);
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(stderrLines(result)).toEqual([
      `sagaflow: No NATS stream stores start requests of namespace "${namespace}" (${namespace}.start.cli-repair): run the engine once in this namespace ` +
        `(sagaflow run --namespace ${namespace}) to create its streams, or use the engine's namespace (or the server runs without JetStream: nats-server -js)`,
    ]);
  });

  it('every command has --help with examples; usage errors exit 2', async () => {
    const names = ['list', 'show', 'watch', 'stats', 'retry', 'abort', 'resume', 'skip', 'dlq', 'init', 'start', 'run', 'cluster', 'ui'];
    const helps = await Promise.all(names.map((name) => sagaflow([name, '--help'])));
    helps.forEach((help, index) => {
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^Usage: sagaflow ${names[index] ?? ''}`, 'u'));
      expect(help.stdout).toContain('Examples:');
      expect(help.stdout).toContain('Exit codes: 0 ok, 1 refused or failed, 2 usage error.');
    });
    const [top, bare, unknown, noReason, noStep, dlqBad, dlqSeq, headerForm, heapGrowth] = await Promise.all([
      sagaflow(['--help']),
      sagaflow([]),
      sagaflow(['frobnicate']),
      sagaflow(['retry', 'x']),
      sagaflow(['skip', 'x', '--reason', 'done by hand']),
      sagaflow(['dlq', 'purge']),
      sagaflow(['dlq', 'show', 'abc']),
      sagaflow(['run', '--command-headers', 'short']),
      sagaflow(['run', '--heap-growth', '0']),
    ]);
    expect(top.code).toBe(0);
    for (const name of names) expect(top.stdout).toMatch(new RegExp(`^ {2}${name} +\\S`, 'mu'));
    expect(bare.code).toBe(2);
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringMatching(/^sagaflow: Unknown command "frobnicate"; commands: list, show/u) as unknown });
    expect(noReason.code).toBe(2);
    expect(stderrLines(noReason)).toEqual([expect.stringMatching(/^sagaflow: Missing --reason TEXT/u)]);
    expect(noStep.code).toBe(2);
    expect(stderrLines(noStep)).toEqual([expect.stringMatching(/^sagaflow: Missing --step STEP/u)]);
    expect(dlqBad.code).toBe(2);
    expect(dlqSeq.code).toBe(2);
    expect(headerForm.code).toBe(2);
    expect(stderrLines(headerForm)).toEqual([expect.stringMatching(/^sagaflow: Unknown --command-headers "short": use minimal, compact, full/u)]);
    expect(heapGrowth.code).toBe(2);
    expect(stderrLines(heapGrowth)).toEqual([expect.stringMatching(/^sagaflow: --heap-growth must be a whole number from 1 to 1000, not "0"/u)]);
  });
});
