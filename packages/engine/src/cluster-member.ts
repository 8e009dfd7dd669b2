import { partitionOf, type EngineMember, type PartitionedTransport, type PartitionLease, type PartitionLeases } from '@sagaflow/core';
import type { Engine, EngineLog, Ownership, RecoveryReport } from './engine.js';
import { planPartitions } from './partition-plan.js';

/** Who an engine is, for the others. */
export interface MemberIdentity {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly startedAt: number;
}

/** Options of {@link ClusterMember}. */
export interface ClusterMemberOptions {
  readonly identity: MemberIdentity;
  readonly leases: PartitionLeases;
  readonly transport: PartitionedTransport;
  readonly log?: EngineLog;
  /** How often leases are renewed and the shares revisited (default: a quarter of the lease TTL). */
  readonly tickMs?: number;
  /**
   * How long before its lease could lapse on the store an engine stops deciding for a partition it could
   * not renew (default: a fifth of the TTL, at least 1 s): room for clocks running at different rates.
   */
  readonly marginMs?: number;
  /** A monotonic clock in ms (default `performance.now`): a lease's validity is measured on it. */
  readonly now?: () => number;
}

/** A partition as this engine holds it. */
interface Held {
  lease: PartitionLease;
  /** Until when (on the monotonic clock) the engine decides for it without a renewal. */
  validUntil: number;
}

/** What an engine of a cluster says about itself. */
export interface MemberStatus {
  readonly id: string;
  readonly partitions: readonly number[];
  /** Partitions it took and gave up since it started. */
  readonly acquired: number;
  readonly released: number;
}

const noLog: EngineLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * One engine among several sharing a namespace. It announces itself, holds the leases of its share of
 * the partitions (renewing them every tick), listens to their inputs, adopts their unfinished
 * instances when it takes one, and lets them go when it hands one over or loses it. It is the
 * engine's {@link Ownership}: a partition counts as held only while its lease is valid by this
 * engine's clock, a margin before the store could let another engine take it, so an engine that
 * was paused or cut off stops deciding before anyone else starts.
 */
export class ClusterMember implements Ownership {
  private readonly held = new Map<number, Held>();
  private readonly log: EngineLog;
  private readonly tickMs: number;
  private readonly marginMs: number;
  private readonly now: () => number;
  private engine: Engine | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly sweeps = new Set<ReturnType<typeof setTimeout>>();
  private ticking: Promise<void> = Promise.resolve();
  private shared = false;
  private stopped = false;
  private acquired = 0;
  private released = 0;

  constructor(private readonly options: ClusterMemberOptions) {
    const { ttlMs } = options.leases;
    this.log = options.log ?? noLog;
    this.tickMs = options.tickMs ?? Math.max(100, Math.floor(ttlMs / 4));
    this.marginMs = options.marginMs ?? Math.max(1_000, Math.floor(ttlMs / 5));
    this.now = options.now ?? (() => performance.now());
    if (this.marginMs + this.tickMs >= ttlMs) throw new RangeError(`Lease TTL ${ttlMs} ms is too short for renewals every ${this.tickMs} ms with a ${this.marginMs} ms margin`);
  }

  get id(): string {
    return this.options.identity.id;
  }

  partitionOf(instanceId: string): number {
    return partitionOf(instanceId, this.options.leases.partitions);
  }

  holds(partition: number): boolean {
    const held = this.held.get(partition);
    return held !== undefined && held.validUntil > this.now();
  }

  /** The partitions held now, in order. */
  get partitions(): number[] {
    return [...this.held.keys()].filter((partition) => this.holds(partition)).sort((a, b) => a - b);
  }

  status(): MemberStatus {
    return { id: this.id, partitions: this.partitions, acquired: this.acquired, released: this.released };
  }

  /**
   * Joins the namespace with `engine` (built with this member as its ownership): announces it, takes its
   * share of the free partitions and adopts their instances, then keeps renewing and rebalancing every tick.
   * Resolves after the first round, with what the adoption found.
   */
  async join(engine: Engine): Promise<RecoveryReport> {
    this.engine = engine;
    engine.open();
    const report = await this.serialized(() => this.round());
    this.schedule();
    return report;
  }

  /** Hands every partition over (without waiting for the leases to lapse) and withdraws from the namespace. */
  async leave(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    for (const sweep of this.sweeps) clearTimeout(sweep);
    this.sweeps.clear();
    await this.serialized(async () => {
      for (const partition of [...this.held.keys()]) await this.handOver(partition);
      await this.updateShared();
      await this.options.leases.withdraw(this.id).catch((error: unknown) => this.log.warn(`withdrawing ${this.id}: ${message(error)}`));
    });
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      // A failed round (NATS unreachable, a request timed out) is logged by `serialized`; the next tick tries again.
      this.serialized(() => this.round()).then(
        () => this.schedule(),
        () => this.schedule(),
      );
    }, this.tickMs);
  }

  /** Runs one piece of cluster work after the previous one: rounds never overlap. */
  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const result = this.ticking.then(work);
    this.ticking = result.then(
      () => undefined,
      (error: unknown) => this.log.error(`cluster round failed: ${message(error)}`),
    );
    return result;
  }

  /** Renews, looks, hands over and takes; adopts the instances of what it took. */
  private async round(): Promise<RecoveryReport> {
    const { leases } = this.options;
    await leases.announce(this.announcement()).catch((error: unknown) => this.log.warn(`announcing ${this.id}: ${message(error)}`));
    await this.renewAll();
    const [members, owners] = await Promise.all([leases.members(), leases.leases()]);
    const view = { me: this.id, members: members.map((member) => member.id), partitions: leases.partitions, owners: new Map([...owners].map(([p, lease]) => [p, lease.owner])) };
    const plan = planPartitions(view);
    for (const partition of plan.release) await this.handOver(partition);
    if (plan.release.length > 0) this.log.info(`handed partition(s) ${[...plan.release].sort((a, b) => a - b).join(', ')} over to the ${members.length - 1} other engine(s); holds ${this.partitions.length}`);
    const taken: number[] = [];
    // A lease the store still gives this engine but it no longer counts as held (it lapsed here first): renewing it takes it back.
    for (const [partition, lease] of owners) {
      if (lease.owner === this.id && !this.held.has(partition) && (await this.take(partition, () => leases.renew(lease)))) taken.push(partition);
    }
    for (const partition of plan.acquire) {
      if (await this.take(partition, () => leases.acquire(partition, this.id))) taken.push(partition);
    }
    if (taken.length > 0 && !(await this.listenTo(taken))) taken.length = 0;
    await this.updateShared();
    if (taken.length === 0) return { instances: 0, redispatched: 0, timersArmed: 0, failed: 0 };
    const mine = new Set(taken);
    const engine = this.requireEngine();
    const report = await engine.adopt((instanceId) => mine.has(this.partitionOf(instanceId)));
    this.log.info(`took partition(s) ${taken.sort((a, b) => a - b).join(', ')}: resumed ${report.instances} instance(s); holds ${this.partitions.length} of ${leases.partitions}`);
    this.sweepLater(mine);
    return report;
  }

  /**
   * Adopts, once more a TTL later, the unfinished instances of partitions just taken that the engine
   * does not hold yet: a store whose listing follows the log (EventStoreDB) may not have listed an
   * instance the previous owner started in its last moments when the first adoption read it.
   */
  private sweepLater(partitions: ReadonlySet<number>): void {
    const timer = setTimeout(() => {
      this.sweeps.delete(timer);
      void this.serialized(async () => {
        const engine = this.requireEngine();
        const report = await engine.adopt((instanceId) => partitions.has(this.partitionOf(instanceId)) && this.holds(this.partitionOf(instanceId)) && !engine.holdsInMemory(instanceId));
        if (report.instances > 0) this.log.info(`resumed ${report.instances} more instance(s) of partition(s) taken a TTL ago, which the store listed late`);
      });
    }, this.options.leases.ttlMs);
    this.sweeps.add(timer);
  }

  /** Renews every held lease; a partition whose lease is gone, or lapsed here, is let go. */
  private async renewAll(): Promise<void> {
    await Promise.all(
      [...this.held].map(async ([partition, held]) => {
        if (held.validUntil <= this.now()) return this.lose(partition, 'its lease lapsed before it could be renewed');
        const sent = this.now();
        const renewed = await this.options.leases.renew(held.lease).catch((error: unknown) => {
          this.log.warn(`renewing the lease of partition ${partition}: ${message(error)}`);
          return undefined;
        });
        if (this.held.get(partition) !== held) return undefined;
        if (renewed === null) return this.lose(partition, 'another engine holds its lease');
        if (renewed !== undefined) {
          held.lease = renewed;
          held.validUntil = sent + this.options.leases.ttlMs - this.marginMs;
        }
        return undefined;
      }),
    );
  }

  /** Takes a partition's lease through `claim` (acquire or renew). */
  private async take(partition: number, claim: () => Promise<PartitionLease | null>): Promise<boolean> {
    const sent = this.now();
    const lease = await claim().catch((error: unknown) => {
      this.log.warn(`taking partition ${partition}: ${message(error)}`);
      return null;
    });
    if (lease === null) return false;
    this.held.set(partition, { lease, validUntil: sent + this.options.leases.ttlMs - this.marginMs });
    this.acquired++;
    return true;
  }

  /** Listens to the inputs of partitions just taken, all at once; if the transport cannot, hands them back. */
  private async listenTo(partitions: readonly number[]): Promise<boolean> {
    try {
      await this.options.transport.listenPartitions(partitions, this.requireEngine().handlers);
      return true;
    } catch (error) {
      this.log.error(`listening to partition(s) ${partitions.join(', ')}: ${message(error)}; handing them back`);
      for (const partition of partitions) await this.handOver(partition);
      return false;
    }
  }

  /** Hands a held partition over: stops deciding and listening, lets its instances go, then releases its lease. */
  private async handOver(partition: number): Promise<void> {
    const held = this.held.get(partition);
    if (held === undefined) return;
    await this.letGo(partition);
    await this.options.leases.release(held.lease).catch((error: unknown) => this.log.warn(`releasing partition ${partition}: ${message(error)} (it lapses instead)`));
  }

  /** A partition lost: its lease lapsed or another engine has it. */
  private async lose(partition: number, why: string): Promise<void> {
    this.log.warn(`lost partition ${partition}: ${why}`);
    await this.letGo(partition);
  }

  private async letGo(partition: number): Promise<void> {
    this.held.delete(partition);
    this.released++;
    await this.options.transport.unlistenPartition(partition).catch((error: unknown) => this.log.warn(`unlistening partition ${partition}: ${message(error)}`));
    await this.engine?.release((instanceId) => this.partitionOf(instanceId) === partition);
  }

  /** The namespace-wide work goes with partition 0: exactly one engine does it while partition 0 is held. */
  private async updateShared(): Promise<void> {
    const should = !this.stopped && this.held.has(0);
    if (should === this.shared) return;
    const { transport } = this.options;
    if (should) await transport.listenShared();
    else await transport.unlistenShared();
    this.shared = should;
  }

  private announcement(): EngineMember {
    const { identity } = this.options;
    return {
      ...identity,
      partitions: this.partitions,
      instancesInMemory: this.engine?.cachedInstances ?? 0,
      timersArmed: this.engine?.timersArmed ?? 0,
    };
  }

  private requireEngine(): Engine {
    if (this.engine === null) throw new Error('The cluster member has not joined with an engine');
    return this.engine;
  }
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));
