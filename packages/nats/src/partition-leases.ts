import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import type { EngineMember, PartitionLease, PartitionLeases } from '@sagaflow/core';
import { createBucket, type NamespaceConfig } from './namespace-config.js';
import type { Naming } from './naming.js';

const partitionKey = (partition: number): string => `partition.${partition}`;
const engineKey = (id: string): string => `engine.${id}`;
const validId = /^[-\w=]+$/u;

/** An engine id usable as a KV key token: letters, digits, `-`, `_`, `=`. */
export function checkEngineId(id: string): string {
  if (!validId.test(id)) throw new TypeError(`Invalid engine id "${id}": use letters, digits, "-", "_" and "="`);
  return id;
}

const leaseOf = (partition: number, entry: KvEntry): PartitionLease => ({ partition, owner: entry.string(), revision: entry.revision, writtenAt: entry.created.getTime() });
const live = (entry: KvEntry | null): entry is KvEntry => entry !== null && entry.operation === 'PUT';

/**
 * Partition leases and engine announcements in the namespace's `<NS>_CLUSTER` JetStream KV bucket,
 * whose entries lapse `leaseTtlMs` after their last write (the bucket's max age, kept by the NATS
 * server, so no two engines' clocks are compared). Taking a free partition is a create (refused when
 * the key has a live value), renewing and releasing are compare-and-set on the entry's revision.
 * In a NATS cluster the bucket has the streams' replicas (R3), so a lease survives a server's loss.
 */
export async function openPartitionLeases(js: JetStreamClient, jsm: JetStreamManager, names: Naming, config: NamespaceConfig, replicas = 1): Promise<PartitionLeases> {
  const kvm = new Kvm(js);
  const status = await (await createBucket(kvm, names.buckets.cluster, { history: 1, ttl: config.leaseTtlMs, replicas })).status();
  // Through the stream API, not direct gets: a bucket another engine has just created may not answer direct gets yet.
  const kv: KV = await kvm.open(names.buckets.cluster);
  if (status.ttl !== config.leaseTtlMs) {
    throw new Error(`KV bucket ${names.buckets.cluster} keeps entries ${status.ttl} ms, not the namespace's lease TTL of ${config.leaseTtlMs} ms: remove the bucket (nats kv rm ${names.buckets.cluster}) while no engine runs`);
  }
  const stream = `KV_${names.buckets.cluster}`;
  const prefix = `$KV.${names.buckets.cluster}.`;

  /** The keys with a message now (a value or a deletion marker), from the stream's per-subject counts. */
  const keysWith = async (filter: string): Promise<string[]> => {
    const info = await jsm.streams.info(stream, { subjects_filter: `${prefix}${filter}` });
    return Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(prefix.length));
  };

  return {
    partitions: config.partitions,
    ttlMs: config.leaseTtlMs,

    async announce(member) {
      await kv.put(engineKey(checkEngineId(member.id)), JSON.stringify(member));
    },

    async members() {
      const entries = await Promise.all((await keysWith('engine.*')).map((key) => kv.get(key)));
      return entries.filter(live).map((entry) => entry.json<EngineMember>());
    },

    async leases() {
      const keys = await keysWith('partition.*');
      const entries = await Promise.all(keys.map(async (key) => [Number(key.slice('partition.'.length)), await kv.get(key)] as const));
      return new Map(entries.filter((pair): pair is readonly [number, KvEntry] => live(pair[1])).map(([partition, entry]) => [partition, leaseOf(partition, entry)]));
    },

    async acquire(partition, owner) {
      try {
        const revision = await kv.create(partitionKey(partition), checkEngineId(owner));
        return { partition, owner, revision, writtenAt: Date.now() };
      } catch (error) {
        if (isWrongSequence(error)) return null;
        throw error;
      }
    },

    async renew(lease) {
      let revision: number;
      try {
        revision = await kv.update(partitionKey(lease.partition), lease.owner, lease.revision);
      } catch (error) {
        if (isWrongSequence(error)) return null;
        throw error;
      }
      return { ...lease, revision, writtenAt: Date.now() };
    },

    async release(lease) {
      try {
        await kv.delete(partitionKey(lease.partition), { previousSeq: lease.revision });
      } catch (error) {
        if (!isWrongSequence(error)) throw error;
      }
    },

    async withdraw(id) {
      await kv.delete(engineKey(checkEngineId(id)));
    },
  };
}

/** JetStream refused a compare-and-set: the key is not at the revision named (or has a value already). */
function isWrongSequence(error: unknown): boolean {
  return error instanceof Error && /wrong last sequence/i.test(error.message);
}
