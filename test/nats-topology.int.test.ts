/** Engine and workers set up a namespace's streams and consumers, often at the same moment, on a real nats-server. */
import { randomBytes } from 'node:crypto';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { ensureOperationConsumer, ensureSharedConsumers, ensureStreams, naming, NamespaceConfigError, StreamConflictError, type Naming } from '@sagaflow/nats';

let connections: NatsConnection[];
let jsm: JetStreamManager;
const made: string[] = [];

beforeEach(async () => {
  connections = await Promise.all(Array.from({ length: 8 }, () => connect({ servers: inject('natsUrl') })));
  jsm = await jetstreamManager(connections[0]!);
});

afterEach(async () => {
  for (const stream of made.splice(0)) await jsm.streams.delete(stream).catch(() => false);
  await Promise.all(connections.map((connection) => connection.close()));
});

const freshNamespace = (): string => `topo${randomBytes(4).toString('hex')}`;
/** Every stream a namespace's set-up makes, its KV buckets' too. */
const streamsOf = (names: Naming): string[] => [...Object.values(names.streams), ...Object.values(names.buckets).map((bucket) => `KV_${bucket}`)];

describe('setting up a namespace', () => {
  it('creates the streams for every process when several do it at once', async () => {
    for (let round = 0; round < 150; round++) {
      const names = naming(freshNamespace());
      made.push(...streamsOf(names));
      const managers = await Promise.all(connections.map((connection) => jetstreamManager(connection)));
      // Half of them ask for 8 partitions: whoever is first fixes the namespace's settings, and the others agree or are told.
      const results = await Promise.allSettled(managers.map((manager, index) => ensureStreams(manager, names, index % 2 === 0 ? {} : { partitions: 8 })));
      const fixed = results.find((result) => result.status === 'fulfilled')?.value.partitions;
      const reasons = results.flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : []));
      expect([32, 8], reasons.join('; ')).toContain(fixed);
      for (const [index, result] of results.entries()) {
        if (result.status === 'fulfilled') expect(result.value).toEqual({ partitions: fixed, leaseTtlMs: 10_000 });
        else {
          expect(fixed === 32 && index % 2 === 1, String(result.reason)).toBe(true);
          expect(result.reason).toBeInstanceOf(NamespaceConfigError);
        }
      }
      const streams = await Promise.all(Object.values(names.streams).map((stream) => jsm.streams.info(stream)));
      expect(streams.map((info) => info.config.name)).toEqual(Object.values(names.streams));
      // Removed at once: a server holding a thousand streams creates new ones slower, not this test's subject.
      for (const stream of made.splice(0)) await jsm.streams.delete(stream).catch(() => false);
    }
    // 150 rounds take 22–25 s on two idle cores: more than the default 30 s when the suite loads them.
  }, 120_000);

  it('sets up the consumers for every process when several do it at once', async () => {
    for (let round = 0; round < 10; round++) {
      const names = naming(freshNamespace());
      made.push(...streamsOf(names));
      await ensureStreams(jsm, names);
      const managers = await Promise.all(connections.map((connection) => jetstreamManager(connection)));
      const results = await Promise.allSettled(
        managers.flatMap((manager) => [ensureSharedConsumers(manager, names), ensureOperationConsumer(manager, names, 'order', 'charge', { maxDeliver: 3 })]),
      );
      expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
      expect((await jsm.consumers.info(names.streams.commands, names.operationConsumer('order', 'charge'))).config.max_deliver).toBe(3);
    }
  });

  it('names the stream that already owns the subjects when another stream holds them', async () => {
    const names = naming(freshNamespace());
    const squatter = `SQUAT_${names.namespace.toUpperCase()}`;
    await jsm.streams.add({ name: squatter, subjects: [`${names.namespace}.cmd.>`] });
    made.push(squatter, ...streamsOf(names));
    await expect(ensureStreams(jsm, names)).rejects.toThrow(
      `NATS stream ${names.streams.commands} cannot take subjects ${names.namespace}.cmd.>: stream ${squatter} already holds them. ` +
        'Use another namespace, or remove that stream if nothing needs it.',
    );
    const refused = await ensureStreams(jsm, names).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(StreamConflictError);
    expect(refused).toMatchObject({ stream: names.streams.commands, holder: squatter, subjects: [`${names.namespace}.cmd.>`] });
  });

  it('keeps the partition count and lease TTL it was created with, and refuses other ones by name', async () => {
    const names = naming(freshNamespace());
    made.push(...streamsOf(names));
    expect(await ensureStreams(jsm, names, { partitions: 16, leaseTtlMs: 4_000 })).toEqual({ partitions: 16, leaseTtlMs: 4_000 });
    expect(await ensureStreams(jsm, names)).toEqual({ partitions: 16, leaseTtlMs: 4_000 });
    await expect(ensureStreams(jsm, names, { partitions: 32 })).rejects.toThrow(
      `Namespace "${names.namespace}" has 16 partitions, fixed when its streams were created; --partitions 32 cannot change it (leave --partitions out, or use a new namespace)`,
    );
    await expect(ensureStreams(jsm, names, { leaseTtlMs: 10_000 })).rejects.toThrow(
      `Namespace "${names.namespace}" has a lease TTL of 4000 ms, fixed when its streams were created; --lease-ttl-ms 10000 cannot change it (leave --lease-ttl-ms out, or use a new namespace)`,
    );
    await expect(ensureStreams(jsm, naming(freshNamespace()), { partitions: 0 })).rejects.toThrow('Invalid partition count 0: use a whole number from 1 to 256');
  });
});
