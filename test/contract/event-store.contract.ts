import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  encodeEvent,
  EventStoreUnavailableError,
  noStream,
  WrongExpectedRevisionError,
  type AppendRequest,
  type AppendResult,
  type EventStore,
  type InstanceFilter,
  type InstanceSummary,
  type SagaStatus,
} from '@sagaflow/core';

/** What a contract runner opens for each test. */
export interface OpenedEventStore {
  /** A store on fresh, empty storage. */
  readonly store: EventStore;
  /** Opens another store on the same storage (after or alongside `store`); absent if storage does not outlive a store. */
  readonly reopen?: () => Promise<EventStore>;
  /** Closes every store opened and removes the storage; called after each test, even a failed one. */
  readonly cleanup: () => Promise<void>;
}

/** Epoch ms around which the fixtures happen. */
export const t0 = 1_700_000_000_000;

/** A `SagaStarted` event as the engine would record it. */
export const started = (instanceId: string, at = t0, saga = 'order-fulfilment'): { type: string; json: string } =>
  encodeEvent({
    type: 'SagaStarted',
    at,
    state: { reserveStock: 'dispatching' },
    status: 'running',
    saga,
    sagaVersion: 1,
    instanceId,
    input: { orderId: instanceId, lines: [{ sku: 'SKU-1', quantity: 2 }] },
  });

/** A `StepDispatched` event of step `step`. */
export const dispatched = (instanceId: string, step: string, attempt: number, at = t0): { type: string; json: string } =>
  encodeEvent({
    type: 'StepDispatched',
    at,
    state: { [step]: 'waiting' },
    status: 'running',
    step,
    attempt,
    effectId: `${instanceId}/${step}/${attempt}`,
    command: { orderId: instanceId },
  });

/** A `StepSucceeded` event of step `step`. */
export const succeeded = (instanceId: string, step: string, attempt: number, at = t0): { type: string; json: string } =>
  encodeEvent({
    type: 'StepSucceeded',
    at,
    state: { [step]: 'done' },
    status: 'running',
    step,
    attempt,
    effectId: `${instanceId}/${step}/${attempt}`,
    reply: { ok: true },
  });

/** The listing row of `instanceId` at `revision`. */
export const summaryAt = (instanceId: string, revision: number, fields: Partial<InstanceSummary> = {}): InstanceSummary => ({
  instanceId,
  saga: 'order-fulfilment',
  version: 1,
  status: 'running',
  state: '{"reserveStock":"dispatching"}',
  currentStep: 'reserveStock',
  attempts: 1,
  revision,
  startedAt: t0,
  updatedAt: t0 + revision,
  ...fields,
});

/** An append of `events` on `expectedRevision`, with the matching listing row. */
export const appendOf = (
  instanceId: string,
  expectedRevision: number,
  events: AppendRequest['events'],
  fields: Partial<InstanceSummary> = {},
): AppendRequest => ({ instanceId, expectedRevision, events, summary: summaryAt(instanceId, expectedRevision + events.length, fields) });

const isAppendResult = (result: AppendResult | WrongExpectedRevisionError): result is AppendResult => !(result instanceof WrongExpectedRevisionError);

/** Awaits `promise`, expecting it to reject with a {@link WrongExpectedRevisionError}, and returns that error. */
async function conflictOf(promise: Promise<unknown>): Promise<WrongExpectedRevisionError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(WrongExpectedRevisionError);
  return error as WrongExpectedRevisionError;
}

/**
 * The behaviour every {@link EventStore} adapter must have. Call it from a test file with a function
 * opening a store on fresh storage. A `durable` adapter must also return `reopen` (a second store on the
 * same storage), and is held to the tests of storage that outlives a store and is shared by two stores.
 */
export function eventStoreContract(name: string, open: () => Promise<OpenedEventStore>, capabilities: { readonly durable: boolean }): void {
  /** Tests of durable storage are registered only for durable adapters (never skipped silently). */
  const durableIt = capabilities.durable ? it : (): void => undefined;
  const reopenOf = (opened: OpenedEventStore): (() => Promise<EventStore>) => {
    if (opened.reopen === undefined) throw new Error(`${name} is declared durable but its open() gave no reopen()`);
    return opened.reopen;
  };
  describe(`${name} event store contract`, () => {
    let opened: OpenedEventStore;
    let store: EventStore;

    beforeEach(async () => {
      opened = await open();
      store = opened.store;
    });
    afterEach(async () => {
      await opened.cleanup();
    });

    /** Appends `count` events to a new stream; returns the append results, one per event. */
    async function seed(instanceId: string, count: number, fields: Partial<InstanceSummary> = {}): Promise<AppendResult[]> {
      const results: AppendResult[] = [];
      for (let revision = 0; revision < count; revision += 1) {
        const event = revision === 0 ? started(instanceId) : dispatched(instanceId, 'reserveStock', revision);
        results.push(await store.append(appendOf(instanceId, revision - 1, [event], fields)));
      }
      return results;
    }

    describe('append', () => {
      it('starts a stream with noStream at revision 0', async () => {
        const event = started('order-1');
        const result = await store.append(appendOf('order-1', noStream, [event]));
        expect(result.revision).toBe(0);
        expect(result.position).toBeGreaterThan(0);
        const stream = await store.readStream('order-1');
        expect(stream).toEqual([{ instanceId: 'order-1', revision: 0, position: result.position, type: 'SagaStarted', json: event.json, recordedAt: expect.any(Number) as number }]);
        expect(Number.isSafeInteger(stream[0]?.recordedAt)).toBe(true);
      });

      it('appends several events at once, in order, and reports the last', async () => {
        const events = [started('order-1'), dispatched('order-1', 'reserveStock', 1), dispatched('order-1', 'chargeCard', 1)];
        const result = await store.append(appendOf('order-1', noStream, events));
        const stream = await store.readStream('order-1');
        expect(stream.map((e) => [e.revision, e.type, e.json])).toEqual(events.map((e, revision) => [revision, e.type, e.json]));
        expect(result).toEqual({ revision: 2, position: stream[2]?.position });
        const positions = stream.map((e) => e.position);
        expect(positions).toEqual([...positions].sort((a, b) => a - b));
        expect(new Set(positions).size).toBe(3);
      });

      it('appends a long run of events at once, in order, each at its own revision and position', async () => {
        const events = [started('order-1'), ...Array.from({ length: 19 }, (_, at) => dispatched('order-1', `step${at}`, 1))];
        const first = await store.append(appendOf('order-1', noStream, events));
        const more = await store.append(appendOf('order-1', 19, events.slice(1, 10)));
        const stream = await store.readStream('order-1');
        expect(stream.map((e) => e.revision)).toEqual(Array.from({ length: 29 }, (_, revision) => revision));
        expect(stream.map((e) => e.json)).toEqual([...events, ...events.slice(1, 10)].map((e) => e.json));
        expect(first).toEqual({ revision: 19, position: stream[19]?.position });
        expect(more).toEqual({ revision: 28, position: stream[28]?.position });
        const positions = stream.map((e) => e.position);
        expect(positions).toEqual([...positions].sort((a, b) => a - b));
        expect(new Set(positions).size).toBe(29);
      });

      it('continues a stream at its known revision', async () => {
        const first = await store.append(appendOf('order-1', noStream, [started('order-1')]));
        const second = await store.append(appendOf('order-1', 0, [dispatched('order-1', 'reserveStock', 1)]));
        const third = await store.append(appendOf('order-1', 1, [succeeded('order-1', 'reserveStock', 1), dispatched('order-1', 'chargeCard', 1)]));
        expect([first.revision, second.revision, third.revision]).toEqual([0, 1, 3]);
        expect(second.position).toBeGreaterThan(first.position);
        expect(third.position).toBeGreaterThan(second.position);
        expect((await store.readStream('order-1')).map((e) => e.type)).toEqual(['SagaStarted', 'StepDispatched', 'StepSucceeded', 'StepDispatched']);
      });

      it('refuses noStream on a stream that exists', async () => {
        await seed('order-1', 1);
        const error = await conflictOf(store.append(appendOf('order-1', noStream, [started('order-1')])));
        expect(error).toMatchObject({ instanceId: 'order-1', expectedRevision: noStream, actualRevision: 0, _tag: 'WrongExpectedRevision' });
      });

      it('refuses a stale expected revision and writes nothing', async () => {
        await seed('order-1', 3, { status: 'running' });
        const streamBefore = await store.readStream('order-1');
        const allBefore = await store.readAll(-1, 100);
        const summaryBefore = await store.getInstance('order-1');

        const error = await conflictOf(store.append(appendOf('order-1', 1, [succeeded('order-1', 'reserveStock', 1)], { status: 'stuck' })));
        expect(error.instanceId).toBe('order-1');
        expect(error.expectedRevision).toBe(1);
        expect(error.actualRevision).toBe(2);
        expect(error.message).toContain('order-1');

        expect(await store.readStream('order-1')).toEqual(streamBefore);
        expect(await store.readAll(-1, 100)).toEqual(allBefore);
        expect(await store.getInstance('order-1')).toEqual(summaryBefore);
        expect(await store.listInstances({ statuses: ['stuck'] })).toEqual([]);
      });

      it('refuses an expected revision ahead of the stream, or on a stream that does not exist', async () => {
        await seed('order-1', 1);
        expect(await conflictOf(store.append(appendOf('order-1', 5, [succeeded('order-1', 'x', 1)])))).toMatchObject({ expectedRevision: 5, actualRevision: 0 });
        expect(await conflictOf(store.append(appendOf('order-2', 0, [succeeded('order-2', 'x', 1)])))).toMatchObject({
          instanceId: 'order-2',
          expectedRevision: 0,
          actualRevision: noStream,
        });
        expect(await store.readStream('order-2')).toEqual([]);
        expect(await store.getInstance('order-2')).toBeUndefined();
      });

      it('lets exactly one of several concurrent appends at the same revision win', async () => {
        await seed('order-1', 1);
        const attempts = await Promise.allSettled(
          [1, 2, 3, 4, 5].map((attempt) => store.append(appendOf('order-1', 0, [dispatched('order-1', 'reserveStock', attempt)], { attempts: attempt }))),
        );
        const won = attempts.filter((a) => a.status === 'fulfilled');
        const lost = attempts.flatMap((a) => (a.status === 'rejected' ? [a.reason as unknown] : []));
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(4);
        for (const reason of lost) expect(reason).toBeInstanceOf(WrongExpectedRevisionError);
        const stream = await store.readStream('order-1');
        expect(stream.map((e) => e.revision)).toEqual([0, 1]);
        expect((await store.getInstance('order-1'))?.revision).toBe(1);
      });

      it('rejects malformed requests before writing anything', async () => {
        await seed('order-1', 1);
        const all = await store.readAll(-1, 100);
        await expect(store.append({ ...appendOf('order-1', 0, []) })).rejects.toThrow(/no events/);
        await expect(store.append({ ...appendOf('order-1', 0, [succeeded('order-1', 'x', 1)]), summary: summaryAt('order-1', 7) })).rejects.toThrow(/revision/);
        await expect(store.append({ ...appendOf('order-1', 0, [succeeded('order-1', 'x', 1)]), summary: summaryAt('order-2', 1) })).rejects.toThrow(/order-2/);
        await expect(store.append(appendOf('order-1', -2, [succeeded('order-1', 'x', 1)]))).rejects.toThrow(TypeError);
        await expect(store.append(appendOf('order-1', 0, [succeeded('order-1', 'x', 1)], { updatedAt: t0 + 0.5 }))).rejects.toThrow(/updatedAt/);
        expect(await store.readAll(-1, 100)).toEqual(all);
      });
    });

    describe('appendMany', () => {
      it('commits each request on its own: a conflict fails only its index', async () => {
        await seed('order-b', 1);
        const results = await store.appendMany([
          appendOf('order-a', noStream, [started('order-a')]),
          appendOf('order-b', 3, [succeeded('order-b', 'reserveStock', 1)], { status: 'stuck' }),
          appendOf('order-c', noStream, [started('order-c'), dispatched('order-c', 'reserveStock', 1)]),
          appendOf('order-b', 0, [succeeded('order-b', 'reserveStock', 1)], { status: 'compensating' }),
        ]);
        expect(results).toHaveLength(4);
        const [a, b, c, b2] = results;
        expect(a).toMatchObject({ revision: 0 });
        expect(b).toBeInstanceOf(WrongExpectedRevisionError);
        expect(b).toMatchObject({ instanceId: 'order-b', expectedRevision: 3, actualRevision: 0 });
        expect(c).toMatchObject({ revision: 1 });
        expect(b2).toMatchObject({ revision: 1 });

        expect((await store.readStream('order-a')).map((e) => e.revision)).toEqual([0]);
        expect((await store.readStream('order-b')).map((e) => e.type)).toEqual(['SagaStarted', 'StepSucceeded']);
        expect((await store.readStream('order-c')).map((e) => e.revision)).toEqual([0, 1]);
        expect(await store.getInstance('order-b')).toMatchObject({ status: 'compensating', revision: 1 });
        expect(await store.listInstances({ statuses: ['stuck'] })).toEqual([]);
      });

      it('gives every request of a batch its own positions, in request order', async () => {
        const results = await store.appendMany([
          appendOf('order-a', noStream, [started('order-a'), dispatched('order-a', 'reserveStock', 1)]),
          appendOf('order-b', noStream, [started('order-b')]),
        ]);
        const [a, b] = results.filter(isAppendResult);
        expect(b?.position).toBeGreaterThan(a?.position ?? Infinity);
        const all = await store.readAll(-1, 10);
        expect(all.map((e) => [e.instanceId, e.revision])).toEqual([
          ['order-a', 0],
          ['order-a', 1],
          ['order-b', 0],
        ]);
        expect(all[1]?.position).toBe(a?.position);
        expect(all[2]?.position).toBe(b?.position);
      });

      it('sees earlier requests of the same batch when checking a later one', async () => {
        const results = await store.appendMany([
          appendOf('order-x', noStream, [started('order-x')]),
          appendOf('order-x', 0, [dispatched('order-x', 'reserveStock', 1)]),
          appendOf('order-y', noStream, [started('order-y')]),
          appendOf('order-y', noStream, [started('order-y')]),
        ]);
        expect(results.map((r) => (isAppendResult(r) ? r.revision : `conflict at ${r.actualRevision}`))).toEqual([0, 1, 0, 'conflict at 0']);
        expect((await store.readStream('order-x')).map((e) => e.revision)).toEqual([0, 1]);
        expect((await store.readStream('order-y')).map((e) => e.revision)).toEqual([0]);
      });

      it('returns nothing for no requests', async () => {
        expect(await store.appendMany([])).toEqual([]);
      });

      it('rejects the whole batch, writing nothing, if a request is malformed', async () => {
        await expect(store.appendMany([appendOf('order-a', noStream, [started('order-a')]), appendOf('order-b', noStream, [])])).rejects.toThrow(TypeError);
        expect(await store.readAll(-1, 10)).toEqual([]);
        expect(await store.listInstances()).toEqual([]);
      });
    });

    describe('readStream', () => {
      it('returns a stream in revision order, without the events of other streams', async () => {
        await store.append(appendOf('order-1', noStream, [started('order-1')]));
        await store.append(appendOf('order-2', noStream, [started('order-2')]));
        await store.append(appendOf('order-1', 0, [dispatched('order-1', 'reserveStock', 1)]));
        await store.append(appendOf('order-2', 0, [dispatched('order-2', 'reserveStock', 1)]));
        await store.append(appendOf('order-1', 1, [succeeded('order-1', 'reserveStock', 1)]));
        const stream = await store.readStream('order-1');
        expect(stream.map((e) => [e.instanceId, e.revision, e.type])).toEqual([
          ['order-1', 0, 'SagaStarted'],
          ['order-1', 1, 'StepDispatched'],
          ['order-1', 2, 'StepSucceeded'],
        ]);
      });

      it('returns nothing for an unknown stream', async () => {
        await seed('order-1', 1);
        expect(await store.readStream('order-unknown')).toEqual([]);
      });
    });

    describe('readAll', () => {
      async function interleaved(): Promise<void> {
        await store.append(appendOf('order-a', noStream, [started('order-a')]));
        await store.append(appendOf('order-b', noStream, [started('order-b'), dispatched('order-b', 'reserveStock', 1)]));
        await store.append(appendOf('order-a', 0, [dispatched('order-a', 'reserveStock', 1)]));
        await store.append(appendOf('order-c', noStream, [started('order-c')]));
        await store.append(appendOf('order-b', 1, [succeeded('order-b', 'reserveStock', 1)]));
      }
      const global = [
        ['order-a', 0],
        ['order-b', 0],
        ['order-b', 1],
        ['order-a', 1],
        ['order-c', 0],
        ['order-b', 2],
      ];

      it('returns the events of all streams in the order they were appended', async () => {
        await interleaved();
        const all = await store.readAll(-1, 100);
        expect(all.map((e) => [e.instanceId, e.revision])).toEqual(global);
        for (let index = 1; index < all.length; index += 1) expect(all[index]?.position).toBeGreaterThan(all[index - 1]?.position ?? Infinity);
        expect(await store.readAll(0, 100)).toEqual(all);
      });

      it('starts strictly after the given position', async () => {
        await interleaved();
        const all = await store.readAll(-1, 100);
        const third = all[2];
        expect(third).toBeDefined();
        const rest = await store.readAll(third?.position ?? 0, 100);
        expect(rest).toEqual(all.slice(3));
        expect(await store.readAll(all.at(-1)?.position ?? 0, 100)).toEqual([]);
      });

      it('returns at most `limit` events, so paging by the last position reads everything once', async () => {
        await interleaved();
        expect((await store.readAll(-1, 2)).map((e) => [e.instanceId, e.revision])).toEqual(global.slice(0, 2));
        expect(await store.readAll(-1, 0)).toEqual([]);
        const paged: string[] = [];
        let after = -1;
        for (;;) {
          const page = await store.readAll(after, 4);
          if (page.length === 0) break;
          paged.push(...page.map((e) => `${e.instanceId}@${e.revision}`));
          after = page.at(-1)?.position ?? after;
        }
        expect(paged).toEqual(global.map(([id, revision]) => `${id}@${revision}`));
      });

      it('returns nothing from an empty store', async () => {
        expect(await store.readAll(-1, 10)).toEqual([]);
      });
    });

    describe('listInstances', () => {
      const statuses: readonly SagaStatus[] = ['running', 'compensating', 'completed', 'stuck', 'pending'];
      /** Instances i00..i23: two sagas, five statuses, `updatedAt` shared by pairs so the instance id breaks ties. */
      const fixture: readonly InstanceSummary[] = Array.from({ length: 24 }, (_, n) =>
        summaryAt(`i${String(n).padStart(2, '0')}`, 0, {
          saga: n % 3 === 0 ? 'refund' : 'order-fulfilment',
          status: statuses[n % statuses.length] ?? 'running',
          updatedAt: t0 + Math.floor(n / 2) * 1000,
          startedAt: t0 + (n % 4) * 1000,
        }),
      );
      const newestFirst = (rows: readonly InstanceSummary[]): string[] =>
        [...rows]
          .sort((a, b) => b.updatedAt - a.updatedAt || (b.instanceId < a.instanceId ? -1 : b.instanceId > a.instanceId ? 1 : 0))
          .map((row) => row.instanceId);
      const ids = (rows: readonly InstanceSummary[]): string[] => rows.map((row) => row.instanceId);

      beforeEach(async () => {
        const results = await store.appendMany(fixture.map((summary) => ({ instanceId: summary.instanceId, expectedRevision: noStream, events: [started(summary.instanceId)], summary })));
        expect(results.every(isAppendResult)).toBe(true);
      });

      it('lists every instance newest change first, the instance id breaking ties', async () => {
        const rows = await store.listInstances();
        expect(ids(rows)).toEqual(newestFirst(fixture));
        expect(ids(rows).slice(0, 4)).toEqual(['i23', 'i22', 'i21', 'i20']);
        expect(rows[0]).toEqual(fixture[23]);
      });

      it('filters by saga', async () => {
        expect(ids(await store.listInstances({ saga: 'refund' }))).toEqual(newestFirst(fixture.filter((row) => row.saga === 'refund')));
        expect(await store.listInstances({ saga: 'unknown' })).toEqual([]);
      });

      it('filters by several statuses at once', async () => {
        const wanted: SagaStatus[] = ['stuck', 'compensating'];
        expect(ids(await store.listInstances({ statuses: wanted }))).toEqual(newestFirst(fixture.filter((row) => wanted.includes(row.status))));
        expect(ids(await store.listInstances({ statuses: ['completed'] }))).toEqual(newestFirst(fixture.filter((row) => row.status === 'completed')));
        expect(await store.listInstances({ statuses: ['cancelled'] })).toEqual([]);
      });

      it('treats an empty status list as no status filter', async () => {
        expect(ids(await store.listInstances({ statuses: [] }))).toEqual(newestFirst(fixture));
      });

      it('filters by last change at or after a time', async () => {
        const since = t0 + 7000;
        const expected = newestFirst(fixture.filter((row) => row.updatedAt >= since));
        expect(expected).toContain('i14');
        expect(ids(await store.listInstances({ updatedSince: since }))).toEqual(expected);
      });

      it('combines saga, statuses and time filters', async () => {
        const filter = { saga: 'order-fulfilment', statuses: ['running', 'stuck'] as SagaStatus[], updatedSince: t0 + 3000 };
        const expected = newestFirst(fixture.filter((r) => r.saga === filter.saga && filter.statuses.includes(r.status) && r.updatedAt >= filter.updatedSince));
        expect(expected.length).toBeGreaterThan(2);
        expect(ids(await store.listInstances(filter))).toEqual(expected);
      });

      it('filters by a window of last change, a window of start, and an id prefix', async () => {
        const window = { updatedSince: t0 + 2000, updatedBefore: t0 + 6000 };
        const changed = newestFirst(fixture.filter((r) => r.updatedAt >= window.updatedSince && r.updatedAt < window.updatedBefore));
        expect(changed.length).toBeGreaterThan(2);
        expect(ids(await store.listInstances(window))).toEqual(changed);
        const started = { startedSince: t0 + 1000, startedBefore: t0 + 3000 };
        const startedIn = newestFirst(fixture.filter((r) => r.startedAt >= started.startedSince && r.startedAt < started.startedBefore));
        expect(startedIn.length).toBeGreaterThan(0);
        expect(startedIn.length).toBeLessThan(fixture.length);
        expect(ids(await store.listInstances(started))).toEqual(startedIn);
        expect(ids(await store.listInstances({ idPrefix: 'i1' }))).toEqual(newestFirst(fixture.filter((r) => r.instanceId.startsWith('i1'))));
        expect(await store.listInstances({ idPrefix: 'nothing-starts-so' })).toEqual([]);
        const all = { saga: 'order-fulfilment', statuses: ['running', 'stuck'] as SagaStatus[], idPrefix: 'i', updatedBefore: t0 + 7000 };
        expect(ids(await store.listInstances(all))).toEqual(
          newestFirst(fixture.filter((r) => r.saga === all.saga && all.statuses.includes(r.status) && r.instanceId.startsWith('i') && r.updatedAt < all.updatedBefore)),
        );
      });

      it('returns at most `limit` rows, 100 by default', async () => {
        expect(ids(await store.listInstances({ limit: 5 }))).toEqual(newestFirst(fixture).slice(0, 5));
        expect(ids(await store.listInstances({ statuses: ['running', 'stuck', 'completed'], limit: 3 }))).toEqual(
          newestFirst(fixture.filter((r) => ['running', 'stuck', 'completed'].includes(r.status))).slice(0, 3),
        );
        expect(await store.listInstances({ limit: 0 })).toEqual([]);
        const more = Array.from({ length: 90 }, (_, n) => appendOf(`more-${n}`, noStream, [started(`more-${n}`)]));
        await store.appendMany(more);
        expect(await store.listInstances()).toHaveLength(100);
        expect(await store.listInstances({ limit: 500 })).toHaveLength(114);
      });

      const pageThrough = async (filter: InstanceFilter, size: number): Promise<string[]> => {
        const seen: string[] = [];
        let after: InstanceFilter['after'];
        for (let pages = 0; pages < 100; pages += 1) {
          const page = await store.listInstances({ ...filter, limit: size, after });
          seen.push(...ids(page));
          const last = page.at(-1);
          if (page.length < size || last === undefined) return seen;
          after = { updatedAt: last.updatedAt, instanceId: last.instanceId };
        }
        throw new Error('pagination does not end');
      };

      it('pages with the keyset cursor through every row exactly once, newest first', async () => {
        for (const size of [1, 2, 5, 7, 24]) expect(await pageThrough({}, size)).toEqual(newestFirst(fixture));
        const filter = { saga: 'order-fulfilment', statuses: ['running', 'completed', 'pending'] as SagaStatus[] };
        expect(await pageThrough(filter, 3)).toEqual(newestFirst(fixture.filter((r) => r.saga === filter.saga && filter.statuses.includes(r.status))));
        expect(await pageThrough({ updatedSince: t0 + 4000 }, 4)).toEqual(newestFirst(fixture.filter((r) => r.updatedAt >= t0 + 4000)));
      });

      it('positions the cursor by value, between rows sharing a time', async () => {
        // i13 and i12 share t0 + 6000: after i13 comes i12; after a made-up id between them too.
        expect(ids(await store.listInstances({ after: { updatedAt: t0 + 6000, instanceId: 'i13' }, limit: 2 }))).toEqual(['i12', 'i11']);
        expect(ids(await store.listInstances({ after: { updatedAt: t0 + 6000, instanceId: 'i125' }, limit: 2 }))).toEqual(['i12', 'i11']);
        expect(ids(await store.listInstances({ after: { updatedAt: t0 + 6500, instanceId: '' }, limit: 1 }))).toEqual(['i13']);
        expect(await store.listInstances({ after: { updatedAt: t0, instanceId: 'i00' } })).toEqual([]);
      });
    });

    describe('getInstance', () => {
      it('returns the listing row of an instance, or undefined', async () => {
        const summary = summaryAt('order-1', 0, { currentStep: null, attempts: 0, state: '"reserveStock"' });
        await store.append({ instanceId: 'order-1', expectedRevision: noStream, events: [started('order-1')], summary });
        expect(await store.getInstance('order-1')).toEqual(summary);
        expect(await store.getInstance('order-unknown')).toBeUndefined();
      });

      it('replaces the row with the one of each append', async () => {
        await store.append(appendOf('order-1', noStream, [started('order-1')], { status: 'running', currentStep: 'reserveStock', attempts: 1 }));
        const second = appendOf('order-1', 0, [dispatched('order-1', 'refundCard', 1)], {
          status: 'compensating',
          currentStep: 'refundCard',
          attempts: 2,
          state: '{"compensating":"refundCard"}',
          updatedAt: t0 + 60_000,
        });
        await store.append(second);
        expect(await store.getInstance('order-1')).toEqual(second.summary);
        expect(await store.listInstances({ statuses: ['running'] })).toEqual([]);
        expect(await store.listInstances({ statuses: ['compensating'] })).toEqual([second.summary]);
        expect(await store.listInstances()).toHaveLength(1);
        expect(await store.listInstances({ updatedSince: t0 + 60_000 })).toEqual([second.summary]);
      });
    });

    describe('stored text', () => {
      it('returns the event JSON exactly as stored, even when it is not JSON at all', async () => {
        const texts = ['{not json at all', '{ "type" : "SagaStarted",\n  "note": "spaced out" }', '{"text":"ünïcödé ✓ 🧾","escaped":"\\u00e9"}', '', 'null'];
        await store.append(appendOf('order-1', noStream, texts.map((json) => ({ type: 'Garbled', json }))));
        expect((await store.readStream('order-1')).map((e) => e.json)).toEqual(texts);
        expect((await store.readAll(-1, 10)).map((e) => [e.type, e.json])).toEqual(texts.map((json) => ['Garbled', json]));
      });
    });

    describe('lifecycle', () => {
      it('can be closed twice, and refuses work once closed', async () => {
        await seed('order-1', 1);
        await store.close();
        await store.close();
        await expect(store.readStream('order-1')).rejects.toBeInstanceOf(EventStoreUnavailableError);
        await expect(store.append(appendOf('order-1', 0, [dispatched('order-1', 'x', 1)]))).rejects.toBeInstanceOf(EventStoreUnavailableError);
      });

      durableIt('keeps everything across close and reopen', async () => {
        const reopen = reopenOf(opened);
        await seed('order-1', 3, { status: 'compensating' });
        await seed('order-2', 1);
        const stream = await store.readStream('order-1');
        const all = await store.readAll(-1, 100);
        const listing = await store.listInstances();
        await store.close();

        const again = await reopen();
        expect(await again.readStream('order-1')).toEqual(stream);
        expect(await again.readAll(-1, 100)).toEqual(all);
        expect(await again.listInstances()).toEqual(listing);
        expect(await again.getInstance('order-1')).toMatchObject({ status: 'compensating', revision: 2 });
        await conflictOf(again.append(appendOf('order-1', 1, [succeeded('order-1', 'x', 1)])));
        const next = await again.append(appendOf('order-1', 2, [succeeded('order-1', 'x', 1)]));
        expect(next.revision).toBe(3);
        expect(next.position).toBeGreaterThan(Math.max(...all.map((e) => e.position)));
      });

      durableIt('lets exactly one of two stores on the same storage win each revision', async () => {
        const reopen = reopenOf(opened);
        const other = await reopen();
        const [first, second] = await Promise.allSettled([
          store.append(appendOf('order-1', noStream, [started('order-1')], { attempts: 1 })),
          other.append(appendOf('order-1', noStream, [started('order-1')], { attempts: 2 })),
        ]);
        expect([first?.status, second?.status].sort()).toEqual(['fulfilled', 'rejected']);
        for (let revision = 0; revision < 10; revision += 1) {
          const writers = revision % 2 === 0 ? [store, other] : [other, store];
          const outcomes = await Promise.allSettled(
            writers.map((writer, n) => writer.append(appendOf('order-1', revision, [dispatched('order-1', 'step', revision)], { attempts: n }))),
          );
          expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
          for (const outcome of outcomes) if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(WrongExpectedRevisionError);
        }
        const mine = await store.readStream('order-1');
        expect(mine.map((e) => e.revision)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        expect(await other.readStream('order-1')).toEqual(mine);
        expect(await other.getInstance('order-1')).toEqual(await store.getInstance('order-1'));
        await other.close();
      });
    });
  });
}
