/**
 * The partition leases on a real nats-server's JetStream KV: one holder per partition by
 * compare-and-set, renewals that keep it, a release that frees it at once, and entries that lapse by
 * themselves after the TTL (the server's clock), announcements too.
 */
import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import type { PartitionLeases } from '@sagaflow/core';
import { checkEngineId, ensureStreams, naming, openPartitionLeases, type Naming } from '@sagaflow/nats';

let connection: NatsConnection;
let jsm: JetStreamManager;
let names: Naming;

beforeEach(async () => {
  connection = await connect({ servers: inject('natsUrl') });
  jsm = await jetstreamManager(connection);
  names = naming(`lease${randomBytes(4).toString('hex')}`);
});

afterEach(async () => {
  for (const stream of [...Object.values(names.streams), ...Object.values(names.buckets).map((bucket) => `KV_${bucket}`)]) await jsm.streams.delete(stream).catch(() => false);
  await connection.close();
});

async function leasesWithTtl(leaseTtlMs: number, partitions = 4): Promise<PartitionLeases> {
  const config = await ensureStreams(jsm, names, { partitions, leaseTtlMs });
  return openPartitionLeases(jetstream(connection), jsm, names, config);
}

const member = (id: string, partitions: number[] = []) => ({ id, host: 'h', pid: 1, startedAt: 0, partitions, instancesInMemory: 0, timersArmed: 0 });

describe('partition leases on JetStream KV', () => {
  it('one holder per partition: a second acquire is refused, a stale renewal or release does nothing', async () => {
    const leases = await leasesWithTtl(10_000);
    expect(leases).toMatchObject({ partitions: 4, ttlMs: 10_000 });
    const [a, b] = await Promise.all([leases.acquire(2, 'engine-a'), leases.acquire(2, 'engine-b')]);
    const winner = a ?? b;
    expect([a, b].filter((lease) => lease !== null)).toHaveLength(1);
    expect(await leases.acquire(2, 'engine-c')).toBeNull();

    const renewed = await leases.renew(winner!);
    expect(renewed).toMatchObject({ partition: 2, owner: winner!.owner });
    expect(renewed!.revision).toBeGreaterThan(winner!.revision);
    // The revision before the renewal no longer holds anything.
    expect(await leases.renew(winner!)).toBeNull();
    await leases.release(winner!);
    expect((await leases.leases()).get(2)).toMatchObject({ owner: winner!.owner, revision: renewed!.revision });

    await leases.release(renewed!);
    expect((await leases.leases()).has(2)).toBe(false);
    expect(await leases.acquire(2, 'engine-c')).toMatchObject({ partition: 2, owner: 'engine-c' });
    expect([...(await leases.leases()).values()].map((lease) => [lease.partition, lease.owner])).toEqual([[2, 'engine-c']]);
  });

  it('a lease and an announcement not renewed lapse after the TTL, by the server; renewed ones stay', async () => {
    const leases = await leasesWithTtl(2_000);
    const kept = await leases.acquire(0, 'engine-a');
    const lapsing = await leases.acquire(1, 'engine-a');
    expect(lapsing).not.toBeNull();
    await leases.announce(member('engine-a', [0, 1]));
    await leases.announce(member('engine-b'));
    let current = kept!;
    const started = Date.now();
    while (Date.now() - started < 2_600) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      current = (await leases.renew(current))!;
      await leases.announce(member('engine-a', [0]));
    }
    expect([...(await leases.leases()).keys()]).toEqual([0]);
    expect((await leases.members()).map((m) => m.id)).toEqual(['engine-a']);
    expect(await leases.renew(lapsing!)).toBeNull();
    expect(await leases.acquire(1, 'engine-b')).toMatchObject({ owner: 'engine-b' });
    await leases.withdraw('engine-a');
    expect(await leases.members()).toEqual([]);
  });

  it('engine ids are KV key tokens', () => {
    expect(checkEngineId('host-1234-ab12')).toBe('host-1234-ab12');
    expect(() => checkEngineId('host.with.dots')).toThrow('Invalid engine id "host.with.dots": use letters, digits, "-", "_" and "="');
  });
});
