/**
 * Ports of several engines sharing one saga space: partition leases and partitioned intake.
 * An instance belongs to one partition ({@link partitionOf}); a partition is decided for by the
 * engine holding its lease. The adapters (JetStream KV and subjects) implement these.
 */
import type { Transport, TransportHandlers } from './transport.js';

/** An engine of a namespace, as it announces itself to the others. */
export interface EngineMember {
  /** Unique while it runs: host, process and a random suffix. */
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  /** Epoch ms. */
  readonly startedAt: number;
  /** The partitions it decides for, as of this announcement. */
  readonly partitions: readonly number[];
  /** Unfinished instances it holds in memory. */
  readonly instancesInMemory: number;
  /** Durable timers it has armed. */
  readonly timersArmed: number;
}

/** A partition's lease, as its holder knows it. */
export interface PartitionLease {
  readonly partition: number;
  /** The engine holding it. */
  readonly owner: string;
  /** The store's revision of the lease: a renewal or release must name it (compare-and-set). */
  readonly revision: number;
  /** When the store last wrote it, epoch ms by the store's clock. */
  readonly writtenAt: number;
}

/**
 * Where engines agree who decides for which partition. Leases and announcements lapse `ttlMs` after
 * they were last written, by the store's clock: an engine that stops renewing loses them without
 * anyone deciding so. Every change is a compare-and-set, so two engines never hold one partition.
 */
export interface PartitionLeases {
  /** Partitions of the namespace (fixed when it was created). */
  readonly partitions: number;
  /** How long a lease or an announcement lives without renewal. */
  readonly ttlMs: number;
  /** Announces an engine, or renews its announcement. */
  announce(member: EngineMember): Promise<void>;
  /** The engines whose announcement has not lapsed. */
  members(): Promise<readonly EngineMember[]>;
  /** The lease of every partition that has one. */
  leases(): Promise<ReadonlyMap<number, PartitionLease>>;
  /** Takes a partition nobody holds; `null` when somebody does. */
  acquire(partition: number, owner: string): Promise<PartitionLease | null>;
  /** Renews a lease; `null` when it is no longer this one (it lapsed, or another engine took the partition). */
  renew(lease: PartitionLease): Promise<PartitionLease | null>;
  /** Gives a lease up before it lapses (a handover); a lease that changed meanwhile is left alone. */
  release(lease: PartitionLease): Promise<void>;
  /** Withdraws an engine's announcement. */
  withdraw(id: string): Promise<void>;
}

/**
 * A transport that delivers an engine's inputs by partition, so engines can share a namespace:
 * each listens to the partitions it holds, and one of them also does the namespace-wide work.
 */
export interface PartitionedTransport extends Transport {
  readonly partitions: number;
  /**
   * Starts delivering the inputs of partitions to `handlers`, as their new owner: what their previous
   * owner was handed and did not acknowledge is delivered again at once, not after an acknowledgement timeout.
   */
  listenPartitions(partitions: readonly number[], handlers: TransportHandlers): Promise<void>;
  /** Stops delivering a partition's inputs; what was not acknowledged goes to its next owner. */
  unlistenPartition(partition: number): Promise<void>;
  /** Starts the namespace-wide work (dead letters, delivery advisories, requests without a partition). */
  listenShared(): Promise<void>;
  unlistenShared(): Promise<void>;
}

/**
 * The engine does not hold the partition of the instance (any more): it decides nothing for it. The
 * input is left unacknowledged, so the transport hands it to the partition's owner.
 */
export class NotOwnerError extends Error {
  readonly _tag = 'NotOwner';
  constructor(
    readonly instanceId: string,
    readonly partition: number,
  ) {
    super(`This engine does not hold partition ${partition} of instance "${instanceId}": its owner decides for it`);
    this.name = 'NotOwnerError';
  }
}
