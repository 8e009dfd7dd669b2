/**
 * The partition plan: each engine plans on its own view; rounds in which every engine plans, hands
 * over, then takes (in any order, a partition going to whoever reaches it first) converge to every
 * partition held and every share within one of even, from any starting point: one engine alone,
 * engines joining, engines gone with their leases lapsing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planPartitions } from '../src/partition-plan.js';

/** One round: every member plans on the same view; releases happen, then acquisitions in `order`. */
function round(owners: Map<number, string>, members: readonly string[], partitions: number, order: readonly string[]): Map<number, string> {
  const plans = new Map(members.map((me) => [me, planPartitions({ me, members, partitions, owners })]));
  const next = new Map(owners);
  for (const [me, plan] of plans) {
    for (const partition of plan.release) {
      expect(next.get(partition), `${me} releases only what it holds`).toBe(me);
      next.delete(partition);
    }
  }
  for (const me of order) {
    for (const partition of plans.get(me)?.acquire ?? []) {
      expect(owners.has(partition), `${me} plans to take only free partitions`).toBe(false);
      if (!next.has(partition)) next.set(partition, me);
    }
  }
  return next;
}

const shares = (owners: Map<number, string>, members: readonly string[]): number[] => members.map((member) => [...owners.values()].filter((owner) => owner === member).length);

describe('planPartitions', () => {
  it('a lone engine takes every partition at once', () => {
    const plan = planPartitions({ me: 'a', members: ['a'], partitions: 32, owners: new Map() });
    expect([...plan.acquire].sort((x, y) => x - y)).toEqual(Array.from({ length: 32 }, (_, i) => i));
    expect(plan.release).toEqual([]);
  });

  it('an engine joining a lone one: the first hands over half, the newcomer takes it; nothing else moves', () => {
    const all = new Map(Array.from({ length: 32 }, (_, p) => [p, 'a'] as const));
    const a = planPartitions({ me: 'a', members: ['a', 'b'], partitions: 32, owners: all });
    const b = planPartitions({ me: 'b', members: ['a', 'b'], partitions: 32, owners: all });
    expect(a.release).toHaveLength(16);
    expect(a.acquire).toEqual([]);
    expect(b).toEqual({ acquire: [], release: [] });
    const after = new Map([...all].filter(([p]) => !a.release.includes(p)));
    const b2 = planPartitions({ me: 'b', members: ['a', 'b'], partitions: 32, owners: after });
    expect([...b2.acquire].sort((x, y) => x - y)).toEqual([...a.release].sort((x, y) => x - y));
    expect(planPartitions({ me: 'a', members: ['a', 'b'], partitions: 32, owners: after })).toEqual({ acquire: [], release: [] });
  });

  it('an engine already within one of even keeps what it holds', () => {
    const owners = new Map<number, string>();
    for (let p = 0; p < 32; p++) owners.set(p, p < 11 ? 'a' : p < 22 ? 'b' : 'c');
    for (const me of ['a', 'b', 'c']) expect(planPartitions({ me, members: ['a', 'b', 'c'], partitions: 32, owners })).toEqual({ acquire: [], release: [] });
  });

  it('from any start, rounds converge: every partition held by a live engine, shares within one of even', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.integer({ min: 0, max: 7 }), { maxLength: 64 }),
        fc.array(fc.nat(), { minLength: 12, maxLength: 12 }),
        (partitions, live, start, shuffles) => {
          const members = Array.from({ length: live }, (_, i) => `engine-${i}`);
          // Initial leases of live engines only (those of lapsed engines are gone once they lapse).
          let owners = new Map<number, string>();
          start.slice(0, partitions).forEach((who, partition) => {
            if (who < live) owners.set(partition, `engine-${who}`);
          });
          for (const shuffle of shuffles) {
            const order = members.map((_, i) => members[(i + shuffle) % members.length] ?? '');
            owners = round(owners, members, partitions, order);
          }
          expect(owners.size).toBe(partitions);
          const counts = shares(owners, members);
          expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
        },
      ),
    );
  });

  it('a lapsed engine whose leases are still there is not planned for: nobody takes its partitions until they lapse', () => {
    const owners = new Map<number, string>([
      [0, 'gone'],
      [1, 'gone'],
      [2, 'a'],
      [3, 'b'],
    ]);
    const a = planPartitions({ me: 'a', members: ['a', 'b'], partitions: 4, owners });
    expect(a.acquire).toEqual([]);
    expect(a.release).toEqual([]);
  });
});
