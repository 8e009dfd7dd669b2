/** Engine and workers set up a namespace's streams and consumers, often at the same moment, on a real nats-server. */
import { randomBytes } from 'node:crypto';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { ensureEngineConsumers, ensureOperationConsumer, ensureStreams, naming, StreamConflictError } from '@sagaflow/nats';

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

describe('setting up a namespace', () => {
  it('creates the streams for every process when several do it at once', async () => {
    for (let round = 0; round < 150; round++) {
      const names = naming(freshNamespace());
      made.push(...Object.values(names.streams));
      const managers = await Promise.all(connections.map((connection) => jetstreamManager(connection)));
      const results = await Promise.allSettled(managers.map((manager) => ensureStreams(manager, names)));
      expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
      const streams = await Promise.all(Object.values(names.streams).map((stream) => jsm.streams.info(stream)));
      expect(streams.map((info) => info.config.name)).toEqual(Object.values(names.streams));
    }
  });

  it('sets up the consumers for every process when several do it at once', async () => {
    for (let round = 0; round < 10; round++) {
      const names = naming(freshNamespace());
      made.push(...Object.values(names.streams));
      await ensureStreams(jsm, names);
      const managers = await Promise.all(connections.map((connection) => jetstreamManager(connection)));
      const results = await Promise.allSettled(
        managers.flatMap((manager) => [ensureEngineConsumers(manager, names), ensureOperationConsumer(manager, names, 'order', 'charge', { maxDeliver: 3 })]),
      );
      expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
      expect((await jsm.consumers.info(names.streams.commands, names.operationConsumer('order', 'charge'))).config.max_deliver).toBe(3);
    }
  });

  it('names the stream that already owns the subjects when another stream holds them', async () => {
    const names = naming(freshNamespace());
    const squatter = `SQUAT_${names.namespace.toUpperCase()}`;
    await jsm.streams.add({ name: squatter, subjects: [`${names.namespace}.cmd.>`] });
    made.push(squatter, ...Object.values(names.streams));
    await expect(ensureStreams(jsm, names)).rejects.toThrow(
      `NATS stream ${names.streams.commands} cannot take subjects ${names.namespace}.cmd.>: stream ${squatter} already holds them. ` +
        'Use another namespace, or remove that stream if nothing needs it.',
    );
    const refused = await ensureStreams(jsm, names).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(StreamConflictError);
    expect(refused).toMatchObject({ stream: names.streams.commands, holder: squatter, subjects: [`${names.namespace}.cmd.>`] });
  });
});
