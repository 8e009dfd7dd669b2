/**
 * Test double of the partition leases: an in-memory table with the semantics of the JetStream KV
 * adapter (compare-and-set on a revision, entries lapsing `ttlMs` after their last write), on a
 * clock the test moves. For unit tests of the cluster member; the real adapter is tested against a
 * real nats-server.
 */
import type { EngineMember, PartitionLease, PartitionLeases } from '@sagaflow/core';

export class MemoryLeases implements PartitionLeases {
  private revision = 0;
  private readonly leaseTable = new Map<number, PartitionLease>();
  private readonly memberTable = new Map<string, { member: EngineMember; writtenAt: number }>();

  constructor(
    readonly partitions: number,
    readonly ttlMs: number,
    private readonly clock: () => number,
  ) {}

  private live<T extends { writtenAt: number }>(entry: T | undefined): T | undefined {
    return entry !== undefined && entry.writtenAt + this.ttlMs > this.clock() ? entry : undefined;
  }

  announce(member: EngineMember): Promise<void> {
    this.memberTable.set(member.id, { member, writtenAt: this.clock() });
    return Promise.resolve();
  }

  members(): Promise<readonly EngineMember[]> {
    return Promise.resolve([...this.memberTable.values()].filter((entry) => this.live(entry) !== undefined).map((entry) => entry.member));
  }

  leases(): Promise<ReadonlyMap<number, PartitionLease>> {
    const live = [...this.leaseTable].filter(([, lease]) => this.live(lease) !== undefined);
    return Promise.resolve(new Map(live));
  }

  acquire(partition: number, owner: string): Promise<PartitionLease | null> {
    if (this.live(this.leaseTable.get(partition)) !== undefined) return Promise.resolve(null);
    const lease = { partition, owner, revision: ++this.revision, writtenAt: this.clock() };
    this.leaseTable.set(partition, lease);
    return Promise.resolve(lease);
  }

  renew(lease: PartitionLease): Promise<PartitionLease | null> {
    const current = this.live(this.leaseTable.get(lease.partition));
    if (current?.revision !== lease.revision) return Promise.resolve(null);
    const renewed = { ...lease, revision: ++this.revision, writtenAt: this.clock() };
    this.leaseTable.set(lease.partition, renewed);
    return Promise.resolve(renewed);
  }

  release(lease: PartitionLease): Promise<void> {
    if (this.leaseTable.get(lease.partition)?.revision === lease.revision) this.leaseTable.delete(lease.partition);
    return Promise.resolve();
  }

  withdraw(id: string): Promise<void> {
    this.memberTable.delete(id);
    return Promise.resolve();
  }

  /** Who holds each live lease, for assertions. */
  owners(): Map<number, string> {
    return new Map([...this.leaseTable].filter(([, lease]) => this.live(lease) !== undefined).map(([partition, lease]) => [partition, lease.owner]));
  }
}
