import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { BACKWARDS, END, EventStoreDBClient, FORWARDS, jsonEvent, NO_STREAM, START, type ResolvedEvent } from '@eventstore/db-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventStoreUnavailableError, noStream, WrongExpectedRevisionError, type EventStore } from '@sagaflow/core';
import { openSqliteEventStore } from '@sagaflow/store-sqlite';
import { instanceIdOf, listingApplicationId, maskConnectionString, openEventStoreDbStore, type EventStoreDbStoreOptions } from '@sagaflow/store-eventstoredb';
import { appendOf, dispatched, started, succeeded, summaryAt } from '../contract/event-store.contract.js';
import { openAtOnce } from '../contract/support/support-scripts.js';
import { startEsdbTestServer, type EsdbTestServer } from './esdb-test-server.js';

/** Polls `probe` until it returns something defined, for up to `ms`. */
async function eventually<T>(probe: () => Promise<T | undefined>, ms = 3_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`nothing after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Everything in one stream, through the client directly (not through the adapter). */
async function rawStream(url: string, streamName: string): Promise<ResolvedEvent[]> {
  const client = EventStoreDBClient.connectionString(url);
  try {
    const events: ResolvedEvent[] = [];
    for await (const resolved of client.readStream(streamName, { direction: FORWARDS, fromRevision: START })) events.push(resolved);
    return events;
  } finally {
    await client.dispose();
  }
}

/** A port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('EventStoreDB store', () => {
  let server: EsdbTestServer;
  let dir: string;
  const stores: EventStore[] = [];
  const open = async (options: EventStoreDbStoreOptions = {}, url = server.url): Promise<EventStore> => {
    const store = await openEventStoreDbStore(url, options);
    stores.push(store);
    return store;
  };

  beforeEach(async () => {
    server = await startEsdbTestServer();
    dir = await mkdtemp(join(tmpdir(), 'sagaflow-esdb-adapter-'));
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('streams and metadata', () => {
    it('keeps each instance in one stream of the category sagaflow_instance, whatever dashes its id has', async () => {
      const store = await open();
      const id = 'order-2024-11-17';
      await store.append(appendOf(id, noStream, [started(id)]));
      await store.append(appendOf(id, 0, [dispatched(id, 'reserveStock', 1)]));
      await store.append(appendOf('other', noStream, [started('other')]));

      const names = [...new Set(server.log.map((event) => event.streamName))];
      expect(names).toEqual(['$settings', '$stats-127.0.0.1:2113', 'sagaflow_instance-order-2024-11-17', 'sagaflow_instance-other']);
      // EventStoreDB's $by_category takes the category to be what comes before the first "-".
      const stream = 'sagaflow_instance-order-2024-11-17';
      expect(stream.split('-')[0]).toBe('sagaflow_instance');
      expect(instanceIdOf('sagaflow_instance', stream)).toBe(id);
      expect((await rawStream(server.url, stream)).map((resolved) => [resolved.event?.revision, resolved.event?.type])).toEqual([
        [0n, 'SagaStarted'],
        [1n, 'StepDispatched'],
      ]);
      expect((await store.readStream(id)).map((event) => [event.instanceId, event.revision])).toEqual([
        [id, 0],
        [id, 1],
      ]);
    });

    it('writes $correlationId and $causationId on every event, and the listing row on the last of each append', async () => {
      const store = await open();
      const id = 'order-7';
      const first = appendOf(id, noStream, [started(id), dispatched(id, 'reserveStock', 1)]);
      const second = appendOf(id, 1, [succeeded(id, 'reserveStock', 1), dispatched(id, 'chargeCard', 1), { type: 'Garbled', json: '{not json' }], {
        currentStep: 'chargeCard',
      });
      await store.append(first);
      await store.append(second);

      const events = (await rawStream(server.url, 'sagaflow_instance-order-7')).map((resolved) => {
        if (resolved.event === undefined) throw new Error('no event');
        return resolved.event;
      });
      const metadata = events.map((event) => event.metadata as Record<string, unknown>);
      expect(metadata.map((m) => m.$correlationId)).toEqual([id, id, id, id, id]);
      // The first event of each append is caused by the instance; each next one by the event before it.
      expect(metadata.map((m) => m.$causationId)).toEqual([id, events[0]?.id, id, events[2]?.id, events[3]?.id]);
      expect(metadata.map((m) => m.sagaflowSummary)).toEqual([undefined, first.summary, undefined, undefined, second.summary]);
      // Canonical JSON is stored as JSON (readable in EventStoreDB's UI and projections), other text as bytes.
      expect(events.map((event) => event.isJson)).toEqual([true, true, true, true, false]);
      expect(events[0]?.data).toEqual(JSON.parse(started(id).json));
      expect((await store.readStream(id)).map((event) => event.json)).toEqual([...first.events, ...second.events].map((event) => event.json));
    });

    it('reads a stream that does not exist as empty, also on a server without any instance', async () => {
      const store = await open();
      expect(await store.readStream('order-none')).toEqual([]);
      expect(await store.readAll(-1, 10)).toEqual([]);
      expect(await store.getInstance('order-none')).toBeUndefined();
    });

    it('keeps stores of different categories apart on one server, and refuses a category with a dash', async () => {
      const main = await open();
      const tenant = await open({ category: 'tenant_b' });
      await main.append(appendOf('order-1', noStream, [started('order-1')]));
      await tenant.append(appendOf('order-1', noStream, [started('order-1'), dispatched('order-1', 'reserveStock', 1)]));
      expect(await main.readStream('order-1')).toHaveLength(1);
      expect((await tenant.readAll(-1, 10)).map((event) => event.revision)).toEqual([0, 1]);
      expect(await eventually(() => main.getInstance('order-1'))).toMatchObject({ revision: 0 });
      expect(server.log.map((event) => event.streamName)).toContain('tenant_b-order-1');
      await expect(open({ category: 'tenant-b' })).rejects.toThrow(TypeError);
    });

    it('maps a wrong expected version to the port conflict, over Append as over BatchAppend', async () => {
      await server.close();
      server = await startEsdbTestServer({ batchAppend: false });
      const store = await open();
      await store.append(appendOf('order-1', noStream, [started('order-1')]));
      await expect(store.append(appendOf('order-1', noStream, [started('order-1')]))).rejects.toMatchObject({
        _tag: 'WrongExpectedRevision',
        instanceId: 'order-1',
        expectedRevision: noStream,
        actualRevision: 0,
      });
      const [result] = await store.appendMany([appendOf('order-1', 4, [dispatched('order-1', 'x', 1)])]);
      expect(result).toBeInstanceOf(WrongExpectedRevisionError);
      expect(result).toMatchObject({ expectedRevision: 4, actualRevision: 0 });
      expect(server.calls.get('Streams.Append')).toBe(3);
      expect(server.calls.get('Streams.BatchAppend')).toBeUndefined();
    });
  });

  describe('the instance listing', () => {
    it('is created once when several processes open the same new listing file at once', async () => {
      for (const path of await openAtOnce('listing', join(dir, 'created-at-once', 'listing'))) {
        const db = new Database(path, { readonly: true });
        expect(db.pragma('application_id', { simple: true })).toBe(listingApplicationId);
        expect(db.prepare('SELECT category FROM projection').pluck().all()).toEqual(['saga']);
        db.close();
      }
    }, 60_000);

    it('survives a restart and catches up on what other stores appended while it was down', async () => {
      const listingPath = join(dir, 'listing.sqlite');
      const first = await open({ listingPath });
      await first.append(appendOf('order-1', noStream, [started('order-1')], { status: 'running' }));
      await first.append(appendOf('order-2', noStream, [started('order-2')]));
      await first.close();

      const other = await open({ listingPath: join(dir, 'other.sqlite') });
      const compensating = appendOf('order-1', 0, [dispatched('order-1', 'refundCard', 1)], { status: 'compensating', updatedAt: 1_800_000_000_000 });
      await other.append(compensating);
      await other.append(appendOf('order-3', noStream, [started('order-3')]));
      await other.close();

      const again = await open({ listingPath });
      expect(await again.getInstance('order-1')).toEqual(compensating.summary);
      expect((await again.listInstances()).map((row) => row.instanceId)).toEqual(['order-1', 'order-3', 'order-2']);
      expect(await again.listInstances({ statuses: ['compensating'] })).toEqual([compensating.summary]);
    });

    it('resumes from its checkpoint rather than replaying the whole log', async () => {
      const listingPath = join(dir, 'listing.sqlite');
      const first = await open({ listingPath });
      await first.append(appendOf('order-1', noStream, [started('order-1')]));
      await first.append(appendOf('order-2', noStream, [started('order-2')]));
      await first.close();
      // Remove a row behind the store's back: a replay from the start would bring it back, a resume does not.
      const db = new Database(listingPath);
      const checkpoint = db.prepare<[], string>('SELECT commit_position FROM projection').pluck().get();
      db.prepare("DELETE FROM instances WHERE instance_id = 'order-1'").run();
      db.close();
      expect(BigInt(checkpoint ?? '0')).toBe(server.log.at(-1)?.position);

      const writer = await open();
      await writer.append(appendOf('order-3', noStream, [started('order-3')]));
      const again = await open({ listingPath });
      expect((await again.listInstances()).map((row) => row.instanceId).sort()).toEqual(['order-2', 'order-3']);
    });

    it('follows what other stores append while it runs', async () => {
      const reader = await open({ listingPath: join(dir, 'reader.sqlite') });
      const writer = await open({ listingPath: join(dir, 'writer.sqlite') });
      await writer.append(appendOf('order-9', noStream, [started('order-9')]));
      await writer.append(appendOf('order-9', 0, [dispatched('order-9', 'reserveStock', 1)], { status: 'stuck' }));
      expect(await eventually(async () => (await reader.getInstance('order-9'))?.status === 'stuck' || undefined)).toBe(true);
      expect(await reader.getInstance('order-9')).toEqual(summaryAt('order-9', 1, { status: 'stuck' }));
    });

    it('reads again from its checkpoint what it could not apply while another process locked the listing file', async () => {
      const listingPath = join(dir, 'reader.sqlite');
      const reader = await open({ listingPath, busyTimeoutMs: 50 });
      const writer = await open({ listingPath: join(dir, 'writer.sqlite') });
      const lock = new Database(listingPath);
      lock.prepare('BEGIN IMMEDIATE').run();
      try {
        await writer.appendMany(['a', 'b'].map((id) => appendOf(`order-${id}`, noStream, [started(`order-${id}`)])));
        // The projection fails to write (busy after 50 ms) and waits before subscribing again.
        await new Promise((resolve) => setTimeout(resolve, 150));
        expect(await reader.getInstance('order-a')).toBeUndefined();
      } finally {
        lock.prepare('COMMIT').run();
        lock.close();
      }
      expect(await eventually(() => reader.getInstance('order-b'), 5_000)).toEqual(summaryAt('order-b', 0));
      expect((await reader.listInstances()).map((row) => row.instanceId).sort()).toEqual(['order-a', 'order-b']);
      await reader.close();
      const db = new Database(listingPath, { readonly: true });
      const checkpoint = db.prepare<[], string>('SELECT commit_position FROM projection').pluck().get();
      db.close();
      expect(BigInt(checkpoint ?? '0')).toBe(server.log.at(-1)?.position);
    });

    it('rebuilds a listing kept in memory from the whole log at every open', async () => {
      const writer = await open();
      await writer.appendMany(['a', 'b', 'c'].map((id) => appendOf(`order-${id}`, noStream, [started(`order-${id}`)])));
      const fresh = await open();
      expect(await fresh.listInstances()).toEqual(await writer.listInstances());
    });

    it('starts over when its checkpoint lies beyond the end of the log (a recreated database)', async () => {
      const listingPath = join(dir, 'listing.sqlite');
      const first = await open({ listingPath });
      for (const id of ['order-1', 'order-2', 'order-3']) await first.append(appendOf(id, noStream, [started(id)]));
      await first.close();
      await server.close();
      server = await startEsdbTestServer();
      const again = await open({ listingPath });
      expect(await again.listInstances()).toEqual([]);
    });

    it('subscribes again after the server restarts, and catches up', async () => {
      const reader = await open({ listingPath: join(dir, 'reader.sqlite') });
      await reader.append(appendOf('order-1', noStream, [started('order-1')]));
      const { port, log } = server;
      await server.close();
      server = await startEsdbTestServer({ port, log });
      const writer = await open({ listingPath: join(dir, 'writer.sqlite') });
      await writer.append(appendOf('order-2', noStream, [started('order-2')]));
      expect(await eventually(() => reader.getInstance('order-2'), 5_000)).toMatchObject({ instanceId: 'order-2', revision: 0 });
      // And the reader's own appends work again over its new connection.
      await expect(reader.append(appendOf('order-1', 0, [dispatched('order-1', 'reserveStock', 1)]))).resolves.toMatchObject({ revision: 1 });
    });

    it('refuses a listing file that is a SQLite event store', async () => {
      const path = join(dir, 'events.sqlite');
      await openSqliteEventStore(path).close();
      const error: unknown = await open({ listingPath: path }).catch((reason: unknown) => reason);
      expect(error).toBeInstanceOf(EventStoreUnavailableError);
      expect((error as Error).message).toMatch(/SQLite event store.*file of its own/);
    });
  });

  describe('the test double, through the real client', () => {
    it('reads streams backwards, $all backwards, and serves stream subscriptions', async () => {
      const client = EventStoreDBClient.connectionString(server.url);
      try {
        await client.appendToStream('things-1', ['a', 'b', 'c'].map((type) => jsonEvent({ type, data: { type } })), { expectedRevision: NO_STREAM });
        const backwards: string[] = [];
        for await (const resolved of client.readStream('things-1', { direction: BACKWARDS, fromRevision: END, maxCount: 2 })) backwards.push(resolved.event?.type ?? '');
        expect(backwards).toEqual(['c', 'b']);
        const all: string[] = [];
        for await (const resolved of client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 4 })) all.push(resolved.event?.streamId ?? '');
        expect(all).toEqual(['things-1', 'things-1', 'things-1', '$stats-127.0.0.1:2113']);

        const seen: string[] = [];
        const subscription = client.subscribeToStream('things-1', { fromRevision: 0n });
        subscription.on('data', (resolved: ResolvedEvent) => seen.push(resolved.event?.type ?? ''));
        await eventually(() => Promise.resolve(seen.length === 2 || undefined));
        await client.appendToStream('things-1', jsonEvent({ type: 'd', data: {} }), { expectedRevision: 2n });
        await eventually(() => Promise.resolve(seen.length === 3 || undefined));
        expect(seen).toEqual(['b', 'c', 'd']);
        await subscription.unsubscribe();
      } finally {
        await client.dispose();
      }
    });
  });

  describe('connection problems', () => {
    it('gives one clear error naming the URL, password masked, when nothing listens there', async () => {
      const url = `esdb://admin:changeit@127.0.0.1:${await closedPort()}?tls=false`;
      const masked = url.replace('changeit', '***');
      const error: unknown = await open({}, url).catch((reason: unknown) => reason);
      expect(error).toBeInstanceOf(EventStoreUnavailableError);
      expect(error).toMatchObject({ url: masked });
      const message = (error as Error).message;
      expect(message).toContain(`Event store ${masked} is unavailable: cannot read from it: `);
      expect(message).not.toContain('changeit');
      expect(message).not.toContain('\n');
    });

    it('gives the same error when the server does not answer in time', async () => {
      const silent: Server = createServer(() => undefined);
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      try {
        const address = silent.address();
        const url = `esdb://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}?tls=false`;
        const error: unknown = await open({ connectTimeoutMs: 300 }, url).catch((reason: unknown) => reason);
        expect(error).toBeInstanceOf(EventStoreUnavailableError);
        expect((error as Error).message).toMatch(/no answer within 300 ms|unavailable/);
      } finally {
        silent.close();
      }
    });

    it('gives the same error when it expects TLS of an insecure server, or the string is not a connection string', async () => {
      // (By host name: Node warns about TLS server names that are IP addresses.)
      const tls: unknown = await open({ connectTimeoutMs: 2_000 }, `esdb://localhost:${server.port}`).catch((reason: unknown) => reason);
      expect(tls).toBeInstanceOf(EventStoreUnavailableError);
      expect((tls as Error).message).toContain(`esdb://localhost:${server.port} is unavailable`);
      const garbage: unknown = await open({}, 'mysql://user:secret@db:3306').catch((reason: unknown) => reason);
      expect(garbage).toBeInstanceOf(EventStoreUnavailableError);
      expect((garbage as Error).message).toMatch(/^Event store mysql:\/\/user:\*\*\*@db:3306 is unavailable: invalid connection string/);
    });

    it('masks the password of any connection string form', () => {
      expect(maskConnectionString('esdb://admin:changeit@host:2113?tls=false')).toBe('esdb://admin:***@host:2113?tls=false');
      expect(maskConnectionString('esdb+discover://ops:p@ss:w0rd@cluster.example:2113')).toBe('esdb+discover://ops:***@cluster.example:2113');
      expect(maskConnectionString('esdb://admin@host:2113')).toBe('esdb://admin@host:2113');
      expect(maskConnectionString('esdb://host1:2113,host2:2113?tls=false')).toBe('esdb://host1:2113,host2:2113?tls=false');
    });
  });
});
