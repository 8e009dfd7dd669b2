/**
 * Which partitions an engine should take or hand over, from what it sees of the others: a pure
 * function, so every engine reaches the same conclusion from the same view, and shares end within one
 * partition of even. No coordinator: each engine plans its own moves; the leases' compare-and-set
 * settles two engines reaching for the same free partition.
 */

/** What an engine sees of its namespace at one moment. */
export interface PartitionView {
  /** This engine. */
  readonly me: string;
  /** The engines whose announcement has not lapsed (this one among them). */
  readonly members: readonly string[];
  readonly partitions: number;
  /** The holder of every partition that has a lease (a lapsed engine's leases stay until they lapse too). */
  readonly owners: ReadonlyMap<number, string>;
}

/** The moves of one engine. */
export interface PartitionPlan {
  /** Free partitions to take, in the order to try them. */
  readonly acquire: readonly number[];
  /** Held partitions to hand over. */
  readonly release: readonly number[];
}

/**
 * Plans one engine's moves. With N engines and P partitions, each should hold ⌊P/N⌋ or ⌈P/N⌉:
 * - holding more than ⌈P/N⌉, it hands the excess over;
 * - while another engine holds fewer than ⌊P/N⌋ (one that just joined), it hands over what it holds
 *   beyond ⌊P/N⌋, up to what the others lack, and takes nothing;
 * - holding fewer than ⌊P/N⌋ it takes free partitions up to that, and up to ⌈P/N⌉ once no engine lacks any.
 * Free partitions are tried from a starting point of its own, so engines taking at once rarely collide.
 */
export function planPartitions(view: PartitionView): PartitionPlan {
  const members = [...new Set([...view.members, view.me])].sort();
  const low = Math.floor(view.partitions / members.length);
  const high = Math.ceil(view.partitions / members.length);
  const held = new Map<string, number[]>(members.map((member) => [member, []]));
  for (const [partition, owner] of view.owners) held.get(owner)?.push(partition);
  const mine = (held.get(view.me) ?? []).sort((a, b) => a - b);
  const lacking = members.filter((member) => member !== view.me).reduce((sum, member) => sum + Math.max(0, low - (held.get(member)?.length ?? 0)), 0);

  let keep = mine.length;
  if (keep > high) keep = high;
  if (lacking > 0 && keep > low) keep = Math.max(low, keep - lacking);
  const release = mine.slice(keep).reverse();

  const target = lacking > 0 ? low : high;
  const free = freePartitions(view, startOf(view.me, view.partitions));
  const acquire = free.slice(0, Math.max(0, target - keep));
  return { acquire, release };
}

/** The partitions without a lease, from `start` on, wrapping around. */
function freePartitions(view: PartitionView, start: number): number[] {
  const free: number[] = [];
  for (let i = 0; i < view.partitions; i++) {
    const partition = (start + i) % view.partitions;
    if (!view.owners.has(partition)) free.push(partition);
  }
  return free;
}

/** Where an engine starts looking for free partitions: spread by its id. */
function startOf(id: string, partitions: number): number {
  let hash = 0;
  for (let i = 0; i < id.length; i++) hash = (Math.imul(hash, 31) + id.charCodeAt(i)) | 0;
  return (hash >>> 0) % partitions;
}
