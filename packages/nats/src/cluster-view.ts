import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KvEntry } from '@nats-io/kv';
import type { EngineMember } from '@sagaflow/core';
import { readNamespaceConfig, type NamespaceConfig } from './namespace-config.js';
import type { Naming } from './naming.js';

/** An engine as the others see it. */
export interface EngineView extends EngineMember {
  /** When it last announced itself (epoch ms, the NATS server's clock). */
  readonly announcedAt: number;
}

/** A partition: who holds it, since its last renewal, and what waits in its intake. */
export interface PartitionView {
  readonly partition: number;
  /** The engine holding its lease, or `null` when none does. */
  readonly owner: string | null;
  /** When its lease was last written (epoch ms, the NATS server's clock), or `null`. */
  readonly renewedAt: number | null;
  /** Replies and start requests stored and not yet handed to its owner (`null` while one engine takes every partition in together). */
  readonly pending: number | null;
  /** Handed to its owner and not yet acknowledged, being recorded (`null` likewise). */
  readonly unacknowledged: number | null;
}

/** The backlog of the consumers over every partition, of an engine holding them all. */
export interface Backlog {
  readonly pending: number;
  readonly unacknowledged: number;
}

/** What `sagaflow cluster` shows: the namespace's settings, its engines and its partitions. */
export interface ClusterView {
  readonly config: NamespaceConfig;
  readonly engines: readonly EngineView[];
  readonly partitions: readonly PartitionView[];
  /** While one engine holds every partition and takes them in together: their backlog (else `null`). */
  readonly wide: Backlog | null;
}

const live = (entry: KvEntry | null): entry is KvEntry => entry !== null && entry.operation === 'PUT';

/**
 * Reads the namespace's engines, leases and intake backlog (creating nothing). `null` for a namespace
 * without partitions: not created yet, or created by an earlier Sagaflow.
 */
export async function readClusterView(js: JetStreamClient, jsm: JetStreamManager, names: Naming): Promise<ClusterView | null> {
  const config = await readNamespaceConfig(js, names);
  if (config === null) return null;
  const stream = `KV_${names.buckets.cluster}`;
  const prefix = `$KV.${names.buckets.cluster}.`;
  const subjects = await jsm.streams
    .info(stream, { subjects_filter: `${prefix}>` })
    .then((info) => Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(prefix.length)))
    .catch(() => [] as string[]);
  const kv = await new Kvm(js).open(names.buckets.cluster);
  const entries = (await Promise.all(subjects.map((key) => kv.get(key).catch(() => null)))).filter(live);
  const engines = entries
    .filter((entry) => entry.key.startsWith('engine.'))
    .map((entry) => ({ ...entry.json<EngineMember>(), announcedAt: entry.created.getTime() }))
    .sort((a, b) => a.id.localeCompare(b.id));
  const leases = new Map(entries.filter((entry) => entry.key.startsWith('partition.')).map((entry) => [Number(entry.key.slice('partition.'.length)), entry]));
  const backlog = async (streamName: string, durable: string): Promise<Backlog | null> => {
    const info = await jsm.consumers.info(streamName, durable).catch(() => null);
    return info === null ? null : { pending: info.num_pending, unacknowledged: info.num_ack_pending };
  };
  const sum = (a: Backlog | null, b: Backlog | null): Backlog | null =>
    a === null && b === null ? null : { pending: (a?.pending ?? 0) + (b?.pending ?? 0), unacknowledged: (a?.unacknowledged ?? 0) + (b?.unacknowledged ?? 0) };
  const wide = sum(...(await Promise.all([backlog(names.streams.replies, names.wideReplyConsumer), backlog(names.streams.starts, names.wideStartConsumer)])));
  const partitions = await Promise.all(
    Array.from({ length: config.partitions }, async (_, partition): Promise<PartitionView> => {
      const [replies, starts] = await Promise.all([
        backlog(names.streams.replies, names.partitionReplyConsumer(partition)),
        backlog(names.streams.starts, names.partitionStartConsumer(partition)),
      ]);
      const lease = leases.get(partition);
      const own = wide === null ? (sum(replies, starts) ?? { pending: 0, unacknowledged: 0 }) : null;
      return { partition, owner: lease?.string() ?? null, renewedAt: lease?.created.getTime() ?? null, pending: own?.pending ?? null, unacknowledged: own?.unacknowledged ?? null };
    }),
  );
  return { config, engines, partitions, wide };
}
