/**
 * Repairs through the real binary against a running engine (`sagaflow run`) and a worker process
 * over a real nats-server: stuck instances repaired with `retry` (after the cause is fixed) and
 * with `skip` (fixed by hand), `resume`, `abort`, refusals, and the dead-letter commands.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SagaStatus } from '@sagaflow/core';
import { connectNats, naming, putDeadLetter } from '@sagaflow/nats';
import { openSqliteEventStore } from '@sagaflow/store-sqlite';
import type { CliRepairInput } from '../fixtures/cli-sagas/cli-repair.saga.js';
import { jsonOf, sagaflow, sagaflowJson, stderrLines } from '../support/cli.js';
import { sagaflowFromSources, spawnNode, spawnTs, stopChild, type Child } from '../support/processes.js';

const natsUrl = inject('natsUrl');
const dir = mkdtempSync(join(tmpdir(), 'sagaflow-cli-e2e-'));
const flags = join(dir, 'flags');
const namespace = `cli${Math.random().toString(36).slice(2, 10)}`;
const names = naming(namespace);
const storeUrl = `sqlite:${join(dir, 'sagaflow.db')}`;
const global = ['--store', storeUrl, '--nats', natsUrl, '--namespace', namespace, '--sagas', 'test/fixtures/cli-sagas'];

let engine: Child;
let worker: Child;
let connection: NatsConnection;

interface InstanceRow {
  instanceId: string;
  status: SagaStatus;
  currentStep: string | null;
  attempts: number;
}
interface InterventionOutput {
  instanceId: string;
  action: string;
  by: string;
  reason: string;
  step: string | null;
  instance: InstanceRow;
}
interface ShowOutput extends InstanceRow {
  failure: { step: string | null; code: string; message: string } | null;
  stuck: { kind: string; step: string | null; code: string } | null;
  timeline: { revision: number; type: string; kind: string; compensation: boolean; step: string | null; attempt: number | null; outcome: string; status: SagaStatus; operator: { action: string; by: string; reason: string; step: string | null } | null }[];
}
interface Letter {
  sequence: number;
  reason: string;
  deliveries: number;
  deadAt: string | null;
  originSubject: string;
  originStream: string | null;
  originSequence: number | null;
  instanceId: string | null;
  effectId: string | null;
  size: number;
}
interface LetterShown extends Letter {
  stream: string;
  headers: Record<string, string[]>;
  payload: { size: number; encoding: 'utf8' | 'hex'; text: string };
}
interface LetterList {
  stream: string;
  letters: Letter[];
  count: number;
  more: boolean;
  next: number | null;
}

const input = (key: string, charge: CliRepairInput['charge'], compensationFails = false): string => JSON.stringify({ key, charge, compensationFails });

async function statusOf(id: string): Promise<SagaStatus | undefined> {
  const store = openSqliteEventStore(join(dir, 'sagaflow.db'));
  try {
    return (await store.getInstance(id))?.status;
  } finally {
    await store.close();
  }
}

async function waitFor(id: string, status: SagaStatus): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if ((await statusOf(id)) === status) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${id} is ${(await statusOf(id)) ?? 'missing'}, not ${status}; engine: ${engine.stderr.join('')}`);
}

beforeAll(async () => {
  mkdirSync(flags);
  engine = spawnNode([...sagaflowFromSources, 'run', ...global, '--ack-wait-ms', '2000']);
  worker = spawnTs('test/support/cli-worker.ts', ['--flags', flags, '--namespace', namespace, '--nats', natsUrl]);
  await Promise.all([engine.waitFor(/engine ready/u, 30_000), worker.waitFor(/^worker ready$/u, 30_000)]);
  connection = await connectNats({ url: natsUrl, name: 'cli-e2e' });
});

afterAll(async () => {
  await connection?.close();
  await Promise.all([engine, worker].filter((child) => child !== undefined).map((child) => stopChild(child)));
  rmSync(dir, { recursive: true, force: true });
});

describe('repairing instances through the running engine', () => {
  it('a stuck compensation is repaired with retry after the fix, another with skip; both in the timeline; refusals say why', async () => {
    const started = await Promise.all([
      sagaflowJson<{ instanceId: string; saga: string; version: number }>(['start', 'cli-repair', '--id', 'fix-retry', '--input', input('fix-retry', 'decline', true), ...global]),
      sagaflow(['start', 'cli-repair', '--id', 'fix-skip', '--input', input('fix-skip', 'decline', true), ...global]),
      sagaflow(['start', 'cli-repair', '--id', 'done-1', '--input', input('done-1', 'ok'), ...global]),
    ]);
    expect(started[0]).toEqual({ instanceId: 'fix-retry', saga: 'cli-repair', version: 1 });
    expect(started[1]).toMatchObject({ code: 0, stdout: 'fix-skip\n' });
    await Promise.all([waitFor('fix-retry', 'stuck'), waitFor('fix-skip', 'stuck'), waitFor('done-1', 'completed')]);

    // Refused: the state does not allow it. One line with the engine's reason, exit 1.
    const [retryDone, abortStuck, skipWrongStep, unknown] = await Promise.all([
      sagaflow(['retry', 'done-1', '--reason', 'why not', ...global]),
      sagaflow(['abort', 'fix-skip', '--reason', 'give up', ...global]),
      sagaflow(['skip', 'fix-skip', '--step', 'charge', '--reason', 'wrong step', ...global]),
      sagaflow(['retry', 'nope', '--reason', 'r', ...global]),
    ]);
    expect(retryDone).toEqual({ code: 1, stdout: '', stderr: 'sagaflow: Cannot retry instance "done-1" (status completed): only a stuck step or compensation can be retried\n' });
    expect(abortStuck).toEqual({ code: 1, stdout: '', stderr: 'sagaflow: Cannot abort instance "fix-skip" (status stuck): only a running instance can be aborted\n' });
    expect(skipWrongStep).toEqual({ code: 1, stdout: '', stderr: 'sagaflow: Cannot skip instance "fix-skip" (status stuck): the step named is not the stuck compensation\n' });
    expect(unknown).toEqual({ code: 1, stdout: '', stderr: 'sagaflow: No saga instance "nope"\n' });

    // Fixed by hand: skip the compensation.
    const skipped = await sagaflowJson<InterventionOutput>(['skip', 'fix-skip', '--step', 'reserve', '--by', 'alice', '--reason', 'released the reservation by hand (INC-7)', ...global]);
    expect(skipped).toMatchObject({ instanceId: 'fix-skip', action: 'skip', by: 'alice', reason: 'released the reservation by hand (INC-7)', step: 'reserve' });
    expect(skipped.instance.status).toBe('compensated');

    // The cause fixed: retry gives the compensation a fresh budget, and it succeeds.
    writeFileSync(join(flags, 'fix-retry.fixed'), '');
    const retried = await sagaflow(['retry', 'fix-retry', '--by', 'bob', '--reason', 'refund service redeployed', ...global]);
    expect(retried.code).toBe(0);
    expect(retried.stdout).toMatch(/^retry of fix-retry recorded \(by bob\): now compensating, reserve/u);
    await waitFor('fix-retry', 'compensated');

    const [retryShown, skipShown, retryHuman] = await Promise.all([
      sagaflowJson<ShowOutput>(['show', 'fix-retry', ...global]),
      sagaflowJson<ShowOutput>(['show', 'fix-skip', ...global]),
      sagaflow(['show', 'fix-retry', ...global]),
    ]);
    expect(retryShown.status).toBe('compensated');
    expect(retryShown.stuck).toBeNull();
    expect(retryShown.failure).toMatchObject({ step: 'charge', code: 'Declined' });
    const retryAt = retryShown.timeline.findIndex((entry) => entry.type === 'OperatorIntervened');
    expect(retryShown.timeline[retryAt]).toMatchObject({ kind: 'operator', outcome: 'intervened', status: 'compensating', operator: { action: 'retry', by: 'bob', reason: 'refund service redeployed', step: null } });
    expect(retryShown.timeline[retryAt - 1]).toMatchObject({ type: 'SagaStuck', step: 'reserve' });
    expect(retryShown.timeline.slice(retryAt + 1).map((entry) => `${entry.type}${entry.attempt === null ? '' : `#${entry.attempt}`}`)).toEqual([
      'CompensationDispatched#3',
      'TimerScheduled',
      'CompensationSucceeded#3',
      'SagaCompensated',
    ]);
    expect(retryHuman.stdout).toMatch(/OperatorIntervened\s+operator\s+retry by bob: refund service redeployed\s+compensating/u);

    expect(skipShown.status).toBe('compensated');
    const skip = skipShown.timeline.filter((entry) => entry.type === 'OperatorIntervened');
    expect(skip).toHaveLength(1);
    expect(skip[0]).toMatchObject({ step: 'reserve', status: 'compensated', operator: { action: 'skip', by: 'alice', reason: 'released the reservation by hand (INC-7)', step: 'reserve' } });
    expect(skipShown.timeline.filter((entry) => entry.type === 'CompensationSucceeded')).toEqual([]);
    expect(skipShown.timeline.at(-1)?.type).toBe('SagaCompensated');
  });

  it('resume repeats what a waiting instance awaits; abort compensates it; --by defaults to the OS user', async () => {
    await sagaflow(['start', 'cli-repair', '--id', 'waits-1', '--input', input('waits-1', 'hang'), ...global]);
    await waitFor('waits-1', 'running');
    for (let i = 0; i < 100 && (await sagaflowJson<{ timeline: unknown[] }>(['show', 'waits-1', ...global])).timeline.length < 6; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const resumed = await sagaflowJson<InterventionOutput>(['resume', 'waits-1', '--reason', 'worker queue was purged', ...global]);
    expect(resumed).toMatchObject({ instanceId: 'waits-1', action: 'resume', by: userInfo().username, step: null });
    expect(resumed.instance).toMatchObject({ status: 'running', currentStep: 'charge', attempts: 1 });

    const aborted = await sagaflowJson<InterventionOutput>(['abort', 'waits-1', '--by', 'carol', '--reason', 'customer cancelled', ...global]);
    expect(aborted.instance.status).toBe('compensating');
    await waitFor('waits-1', 'compensated');
    const [shown, resumeDone] = await Promise.all([
      sagaflowJson<ShowOutput>(['show', 'waits-1', ...global]),
      sagaflow(['resume', 'waits-1', '--reason', 'again', ...global]),
    ]);
    expect(shown.timeline.filter((entry) => entry.type === 'OperatorIntervened').map((entry) => entry.operator)).toEqual([
      { action: 'resume', by: userInfo().username, reason: 'worker queue was purged', step: null },
      { action: 'abort', by: 'carol', reason: 'customer cancelled', step: null },
    ]);
    expect(shown.failure).toMatchObject({ step: 'charge', code: 'Aborted', message: 'aborted by carol: customer cancelled' });
    expect(shown.timeline.filter((entry) => entry.compensation && entry.outcome === 'succeeded')).toHaveLength(1);
    expect(resumeDone).toEqual({ code: 1, stdout: '', stderr: 'sagaflow: Cannot resume instance "waits-1" (status compensated): it waits for no command or timer\n' });
  });

  it('ping: the running engine answers with its sagas (exit 0); no engine: one line, exit 1', async () => {
    const [up, down] = await Promise.all([
      sagaflow(['ping', '--json', '--nats', natsUrl, '--namespace', namespace]),
      sagaflow(['ping', '--nats', natsUrl, '--namespace', `${namespace}x`, '--timeout-ms', '2000']),
    ]);
    expect(up.code).toBe(0);
    type Status = { namespace: string; sagas: string[]; instancesInMemory: number; eventLoop: { activeMs: number; idleMs: number } };
    const first = jsonOf<Status>(up);
    expect(first).toMatchObject({ namespace, sagas: ['cli-repair@1'] });
    // The engine's event-loop counters only grow: a later ping reports at least as much busy and idle time.
    expect(first.eventLoop.activeMs).toBeGreaterThan(0);
    const human = await sagaflow(['ping', '--nats', natsUrl, '--namespace', namespace]);
    expect(human.stdout).toMatch(new RegExp(`^engine up in namespace ${namespace} since .*; event loop busy \\d{1,3}% since start\n$`, 'u'));
    const later = jsonOf<Status>(await sagaflow(['ping', '--json', '--nats', natsUrl, '--namespace', namespace]));
    expect(later.eventLoop.activeMs).toBeGreaterThanOrEqual(first.eventLoop.activeMs);
    expect(later.eventLoop.idleMs).toBeGreaterThan(first.eventLoop.idleMs);
    expect(down).toEqual({ code: 1, stdout: '', stderr: `sagaflow: No engine answered in namespace "${namespace}x" at ${natsUrl} (no engine is listening): start one with "sagaflow run"\n` });
  });

  it('no engine in the namespace: one line, exit 1', async () => {
    const result = await sagaflow(['retry', 'fix-retry', '--reason', 'r', '--nats', natsUrl, '--namespace', `${namespace}x`]);
    expect(result).toEqual({ code: 1, stdout: '', stderr: `sagaflow: No engine answered in namespace "${namespace}x" at ${natsUrl} (no engine is listening): start one with "sagaflow run"\n` });
  });
});

describe('sagaflow dlq', () => {
  it('lists and shows dead letters, drops one, and replays one once', async () => {
    const js = jetstream(connection);
    const garbage = new Uint8Array([0xff, 0xfe, 0x00, 0x42, 0x13, 0x37]);
    await js.publish(names.command('cli-repair', 'reserve'), garbage);
    // A letter as the engine keeps a reply or command it gave up on, with its instance's headers.
    const orphan = names.command('cli-repair', 'orphan');
    const original = natsHeaders();
    original.set('Sagaflow-Instance', 'ghost-1');
    original.set('Sagaflow-Effect', 'ghost-1/orphan/action/1');
    original.set('X-Trace', 'abc-123');
    const payload = JSON.stringify({ key: 'ghost-1', note: 'café' });
    await putDeadLetter(js, names, { originSubject: orphan, data: new TextEncoder().encode(payload), headers: original, reason: 'delivered 5 times without acknowledgement', deliveries: 5, at: Date.now() });

    let listed: LetterList = { stream: '', letters: [], count: 0, more: false, next: null };
    for (let i = 0; i < 100 && listed.count < 2; i++) {
      listed = await sagaflowJson<LetterList>(['dlq', 'list', ...global]);
      if (listed.count < 2) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(listed.stream).toBe(names.streams.deadLetters);
    expect(listed.count).toBe(2);
    const garbageLetter = listed.letters.find((letter) => letter.originSubject === names.command('cli-repair', 'reserve'));
    const orphanLetter = listed.letters.find((letter) => letter.originSubject === orphan);
    expect(garbageLetter).toMatchObject({ deliveries: 1, originStream: names.streams.commands, instanceId: null, effectId: null, size: 6 });
    expect(garbageLetter?.reason).toMatch(/^undecodable command: missing header/u);
    expect(orphanLetter).toMatchObject({ reason: 'delivered 5 times without acknowledgement', deliveries: 5, instanceId: 'ghost-1', effectId: 'ghost-1/orphan/action/1', originStream: null });
    const garbageSeq = garbageLetter?.sequence ?? -1;
    const orphanSeq = orphanLetter?.sequence ?? -1;

    const [shownGarbage, shownOrphan, humanGarbage, page, missing, badSeq, otherNamespace] = await Promise.all([
      sagaflowJson<LetterShown>(['dlq', 'show', String(garbageSeq), ...global]),
      sagaflowJson<LetterShown>(['dlq', 'show', String(orphanSeq), ...global]),
      sagaflow(['dlq', 'show', String(garbageSeq), ...global]),
      sagaflowJson<LetterList>(['dlq', 'list', '--limit', '1', ...global]),
      sagaflow(['dlq', 'show', '999999', ...global]),
      sagaflow(['dlq', 'drop', 'x1', ...global]),
      sagaflow(['dlq', 'list', '--nats', natsUrl, '--namespace', `${namespace}none`]),
    ]);
    expect(shownGarbage.payload).toEqual({ size: 6, encoding: 'hex', text: 'fffe00421337' });
    expect(shownGarbage.headers['Sagaflow-Dead-Reason']?.[0]).toMatch(/^undecodable command/u);
    expect(shownOrphan.payload).toEqual({ size: new TextEncoder().encode(payload).length, encoding: 'utf8', text: payload });
    expect(shownOrphan.headers['X-Trace']).toEqual(['abc-123']);
    expect(humanGarbage.stdout).toMatch(/payload {5}6 bytes, binary, shown as hex\n {4}fffe00421337/u);
    expect(humanGarbage.stdout).toMatch(/origin {6}\S+\.cmd\.cli-repair\.reserve \(stream \S+_COMMANDS, sequence \d+\)/u);
    expect(page).toMatchObject({ count: 1, more: true, next: page.letters[0]?.sequence });
    expect(missing.code).toBe(1);
    expect(stderrLines(missing)).toEqual([`sagaflow: No dead letter 999999 in ${names.streams.deadLetters}: its last sequence is ${Math.max(garbageSeq, orphanSeq)}`]);
    expect(badSeq.code).toBe(2);
    expect(otherNamespace.code).toBe(1);
    expect(stderrLines(otherNamespace)).toEqual([expect.stringMatching(/^sagaflow: No dead-letter stream \S+NONE_DLQ at .*: nothing has run in namespace/u)]);

    // Drop: gone; dropping again changes nothing and exits 1.
    expect(await sagaflowJson(['dlq', 'drop', String(garbageSeq), ...global])).toEqual({ sequence: garbageSeq, dropped: true });
    const [dropAgain, showDropped] = await Promise.all([sagaflow(['dlq', 'drop', String(garbageSeq), ...global]), sagaflow(['dlq', 'show', String(garbageSeq), ...global])]);
    const gone = `sagaflow: Dead letter ${garbageSeq} is gone from ${names.streams.deadLetters}: already replayed or dropped\n`;
    expect(dropAgain).toEqual({ code: 1, stdout: '', stderr: gone });
    expect(showDropped).toEqual({ code: 1, stdout: '', stderr: gone });

    // Replay: the original payload and headers, to the origin subject, with Nats-Msg-Id replay:<seq>; then the letter is gone.
    const replayed = await sagaflowJson<{ sequence: number; replayedTo: string; msgId: string; stream: string; streamSequence: number; duplicate: boolean; deleted: boolean }>([
      'dlq',
      'replay',
      String(orphanSeq),
      ...global,
    ]);
    expect(replayed).toMatchObject({ sequence: orphanSeq, replayedTo: orphan, msgId: `replay:${orphanSeq}`, stream: names.streams.commands, duplicate: false, deleted: true });
    const jsm = await jetstreamManager(connection);
    const republished = await jsm.streams.getMessage(names.streams.commands, { last_by_subj: orphan });
    expect(republished?.seq).toBe(replayed.streamSequence);
    expect(new TextDecoder().decode(republished?.data)).toBe(payload);
    expect(republished?.header.get('Nats-Msg-Id')).toBe(`replay:${orphanSeq}`);
    expect(republished?.header.get('X-Trace')).toBe('abc-123');
    expect(republished?.header.get('Sagaflow-Instance')).toBe('ghost-1');
    expect(republished?.header.has('Sagaflow-Dead-Reason')).toBe(false);
    expect(republished?.header.has('Sagaflow-Origin-Subject')).toBe(false);

    const again = await sagaflow(['dlq', 'replay', String(orphanSeq), ...global]);
    expect(again).toEqual({ code: 1, stdout: '', stderr: `sagaflow: Dead letter ${orphanSeq} is gone from ${names.streams.deadLetters}: already replayed or dropped\n` });
    const info = await jsm.streams.info(names.streams.commands, { subjects_filter: orphan });
    expect(info.state.subjects?.[orphan]).toBe(1); // published once

    const empty = await sagaflow(['dlq', 'list', ...global]);
    expect(empty).toMatchObject({ code: 0, stdout: `No dead letters in ${names.streams.deadLetters}.\n` });
  });
});
