import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeRecorded, decodeStream, encodeEvent, noStream, type EventStore, type SagaError } from '@sagaflow/core';
import { openSqliteEventStore } from '@sagaflow/store-sqlite';
import { appendOf, dispatched, started, succeeded, t0 } from './event-store.contract.js';

/** The error of a Left, failing the test on a Right. */
function leftOf<A>(result: E.Either<SagaError, A>): SagaError {
  if (E.isRight(result)) throw new Error(`expected a decoding failure, got ${JSON.stringify(result.right)}`);
  return result.left;
}

describe('a corrupted event row in a SQLite store', () => {
  let dir: string;
  let path: string;
  let store: EventStore | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sagaflow-corrupt-'));
    path = join(dir, 'events.sqlite');
    const writer = openSqliteEventStore(path);
    try {
      for (const id of ['order-ok', 'order-garbled', 'order-mistyped']) {
        await writer.append(appendOf(id, noStream, [started(id), dispatched(id, 'reserveStock', 1)]));
      }
      await writer.append(appendOf('order-ok', 1, [succeeded('order-ok', 'reserveStock', 1)]));
    } finally {
      await writer.close();
    }
    // Damage the file behind the store's back, as a bad disk, a bad migration or a hand edit would.
    const db = new Database(path);
    try {
      db.prepare("UPDATE events SET json = ? WHERE instance_id = 'order-garbled' AND revision = 1").run('{"type":"StepDispatched","at":17000');
      const mistyped = { ...JSON.parse(succeeded('order-mistyped', 'reserveStock', 1).json), attempt: 'two' } as Record<string, unknown>;
      db.prepare(
        "INSERT INTO events (stream, instance_id, revision, type, json, recorded_at) VALUES ((SELECT stream FROM instances WHERE instance_id = 'order-mistyped'), 'order-mistyped', 2, 'StepSucceeded', ?, ?)",
      ).run(
        JSON.stringify(mistyped),
        t0,
      );
    } finally {
      db.close();
    }
    store = openSqliteEventStore(path);
  });

  afterEach(async () => {
    try {
      await store?.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  const opened = (): EventStore => {
    if (store === undefined) throw new Error('store not opened');
    return store;
  };

  it('reads garbage JSON back as stored, and decoding names its revision', async () => {
    const stream = await opened().readStream('order-garbled');
    expect(stream.map((e) => e.json)).toEqual([started('order-garbled').json, '{"type":"StepDispatched","at":17000']);

    const error = leftOf(decodeStream(stream));
    expect(error).toMatchObject({ _tag: 'CorruptEvent', instanceId: 'order-garbled', revision: 1 });
    expect(error._tag === 'CorruptEvent' && error.problems[0]).toMatchObject({ path: '(root)', expected: 'JSON' });
    expect(error.message).toContain('revision 1');
    expect(error.message).toContain('order-garbled');
  });

  it('reads a wrongly typed field back as stored, and decoding names the field and revision', async () => {
    const stream = await opened().readStream('order-mistyped');
    expect(stream).toHaveLength(3);
    const row = stream[2];
    if (row === undefined) throw new Error('row 2 missing');
    expect(JSON.parse(row.json)).toMatchObject({ type: 'StepSucceeded', attempt: 'two' });

    for (const error of [leftOf(decodeStream(stream)), leftOf(decodeRecorded(row))]) {
      expect(error).toMatchObject({ _tag: 'CorruptEvent', instanceId: 'order-mistyped', revision: 2 });
      if (error._tag !== 'CorruptEvent') throw new Error('not a CorruptEvent');
      expect(error.problems).toEqual([{ path: 'attempt', expected: 'number', actual: '"two"' }]);
      expect(error.message).toMatch(/revision 2 of instance "order-mistyped".*attempt: expected number, got "two"/);
    }
    // The rows before the damaged one still decode.
    expect(E.isRight(decodeStream(stream.slice(0, 2)))).toBe(true);
  });

  it('leaves the other instances in the file readable and decodable', async () => {
    const stream = await opened().readStream('order-ok');
    const decoded = decodeStream(stream);
    expect(E.isRight(decoded) && decoded.right.map((event) => event.type)).toEqual(['SagaStarted', 'StepDispatched', 'StepSucceeded']);
    expect(E.isRight(decoded) && decoded.right[0]).toEqual(JSON.parse(started('order-ok').json));

    const all = await opened().readAll(-1, 100);
    expect(all).toHaveLength(8);
    expect(all.filter((row) => E.isLeft(decodeRecorded(row))).map((row) => `${row.instanceId}@${row.revision}`)).toEqual(['order-garbled@1', 'order-mistyped@2']);
    expect((await opened().listInstances()).map((row) => row.instanceId).sort()).toEqual(['order-garbled', 'order-mistyped', 'order-ok']);
    // And the store keeps accepting appends next to the damage.
    const next = encodeEvent({ type: 'TimerFired', at: t0, state: 'x', status: 'running', timerId: 't-1' });
    await expect(opened().append(appendOf('order-ok', 2, [next]))).resolves.toMatchObject({ revision: 3 });
  });
});
