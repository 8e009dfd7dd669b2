/**
 * The cluster member over the in-memory lease double and in-process transports, engines on one
 * memory store: a lone engine takes every partition and adopts the unfinished instances; a second
 * engine gets half by handover; leaving hands everything over; a lease that lapsed on the engine's
 * clock stops it deciding at once, before its append too.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryEventStore, createRegistry, NotOwnerError, partitionOf, saga, type EventStore, type PartitionedTransport, type TransportHandlers } from '@sagaflow/core';
import { ClusterMember } from '../src/cluster-member.js';
import { Engine } from '../src/engine.js';
import { createInProcessTransport } from '../src/in-process-transport.js';
import { MemoryLeases } from './support/memory-leases.js';

const wait = saga('waits', { version: 1, input: t.type({ id: t.string }) });
const hold = wait.step({ name: 'hold', command: t.type({ id: t.string }), reply: t.type({}), toCommand: ({ input }) => ({ id: input.id }), timeoutMs: 60_000 });
const registry = createRegistry([wait.define([hold])]);
const silentLog = { info: () => undefined, warn: () => undefined, error: () => undefined };
const partitions = 8;

/** An in-process transport whose workers never answer, with the partitioned intake recorded. */
function partitionedTransport(): PartitionedTransport & { listening: Set<number>; shared: boolean } {
  const inner = createInProcessTransport();
  inner.register('hold', () => new Promise(() => undefined));
  const listening = new Set<number>();
  const transport = {
    ...inner,
    partitions,
    listening,
    shared: false,
    listenPartitions: (taken: readonly number[], _handlers: TransportHandlers) => Promise.resolve(void taken.forEach((partition) => listening.add(partition))),
    unlistenPartition: (partition: number) => Promise.resolve(void listening.delete(partition)),
    listenShared: () => Promise.resolve(void (transport.shared = true)),
    unlistenShared: () => Promise.resolve(void (transport.shared = false)),
  };
  return transport;
}

interface Node {
  readonly member: ClusterMember;
  readonly engine: Engine;
  readonly transport: ReturnType<typeof partitionedTransport>;
}

const nodes: Node[] = [];
afterEach(async () => {
  for (const { member, engine } of nodes.splice(0)) {
    await member.leave();
    await engine.stop();
  }
});

function node(id: string, store: EventStore, leases: MemoryLeases, options: { tickMs?: number; now?: () => number } = {}): Node {
  const transport = partitionedTransport();
  const member = new ClusterMember({ identity: { id, host: 'test', pid: 1, startedAt: 0 }, leases, transport, log: silentLog, ...options });
  const engine = new Engine({ store, registry, transport, log: silentLog, ownership: member });
  const made = { member, engine, transport };
  nodes.push(made);
  return made;
}

async function eventually(condition: () => boolean, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Instances started by an engine of its own (no cluster), left running: each waits for its step's reply, with its timeout armed. */
async function runningInstances(store: EventStore, count: number): Promise<string[]> {
  const transport = createInProcessTransport();
  transport.register('hold', () => new Promise(() => undefined));
  const engine = new Engine({ store, registry, transport, log: silentLog });
  await engine.start();
  const ids = Array.from({ length: count }, (_, i) => `w-${i}`);
  for (const id of ids) expect(E.isRight(await engine.startSaga('waits', id, { id }))).toBe(true);
  await engine.stop();
  return ids;
}

describe('ClusterMember', () => {
  it('alone, takes every partition, listens to each, does the shared work and adopts every unfinished instance', async () => {
    const store = createMemoryEventStore();
    const ids = await runningInstances(store, 40);
    const leases = new MemoryLeases(partitions, 10_000, () => performance.now());
    const { member, engine, transport } = node('a', store, leases, { tickMs: 50 });
    const report = await member.join(engine);
    expect(member.partitions).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect([...transport.listening].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(transport.shared).toBe(true);
    expect(report.instances).toBe(ids.length);
    expect(engine.cachedInstances).toBe(ids.length);
    expect(engine.timersArmed).toBe(ids.length);
    expect((await leases.members()).map((m) => ({ id: m.id, partitions: m.partitions }))).toEqual([{ id: 'a', partitions: [] }]);
  });

  it('a second engine gets half by handover, with the instances of its partitions; leaving hands the rest over', async () => {
    const store = createMemoryEventStore();
    const ids = await runningInstances(store, 40);
    const leases = new MemoryLeases(partitions, 10_000, () => performance.now());
    const a = node('a', store, leases, { tickMs: 20 });
    await a.member.join(a.engine);
    const b = node('b', store, leases, { tickMs: 20 });
    await b.member.join(b.engine);
    await eventually(() => a.member.partitions.length === 4 && b.member.partitions.length === 4);
    const ofB = ids.filter((id) => b.member.partitions.includes(partitionOf(id, partitions)));
    await eventually(() => b.engine.cachedInstances === ofB.length);
    expect(a.engine.cachedInstances).toBe(ids.length - ofB.length);
    expect(a.engine.timersArmed + b.engine.timersArmed).toBe(ids.length);
    expect(new Set([...a.member.partitions, ...b.member.partitions]).size).toBe(partitions);

    await a.member.leave();
    await a.engine.stop();
    nodes.splice(nodes.indexOf(a), 1);
    expect(a.transport.listening.size).toBe(0);
    expect(a.engine.cachedInstances).toBe(0);
    expect(a.engine.timersArmed).toBe(0);
    await eventually(() => b.member.partitions.length === partitions && b.engine.cachedInstances === ids.length);
    expect(b.engine.timersArmed).toBe(ids.length);
    expect(b.transport.shared).toBe(true);
    expect((await leases.members()).map((m) => m.id)).toEqual(['b']);
  });

  it('a round that fails (NATS unreachable, a request timed out) is logged, and the next tick runs another', async () => {
    const store = createMemoryEventStore();
    const leases = new MemoryLeases(partitions, 10_000, () => performance.now());
    const errors: string[] = [];
    const transport = partitionedTransport();
    const member = new ClusterMember({ identity: { id: 'a', host: 'test', pid: 1, startedAt: 0 }, leases, transport, tickMs: 20, log: { ...silentLog, error: (line: string) => errors.push(line) } });
    const engine = new Engine({ store, registry, transport, log: silentLog, ownership: member });
    nodes.push({ member, engine, transport });
    await member.join(engine);
    let failures = 3;
    const members = leases.members.bind(leases);
    leases.members = () => (failures-- > 0 ? Promise.reject(new Error('timeout')) : members());
    await eventually(() => failures < 0);
    // Rounds go on after the failed ones (an escaped rejection would have failed this run): one announces again.
    let announced = 0;
    const announce = leases.announce.bind(leases);
    leases.announce = (m) => (announced++, announce(m));
    await eventually(() => announced > 1);
    expect(errors.slice(0, 3)).toEqual(['cluster round failed: timeout', 'cluster round failed: timeout', 'cluster round failed: timeout']);
    expect(member.partitions).toHaveLength(partitions);
  });

  it('stops deciding the moment its lease lapses on its own clock, before the store would let another engine take it', async () => {
    const store = createMemoryEventStore();
    let clock = 0;
    // The store's lease lives 10 s; the engine counts on 8 s (the margin), and renews only on ticks, which come too late here (7 s of real time).
    const leases = new MemoryLeases(partitions, 10_000, () => clock);
    const { member, engine } = node('a', store, leases, { tickMs: 7_000, now: () => clock });
    expect(() => new ClusterMember({ identity: { id: 'x', host: 'h', pid: 1, startedAt: 0 }, leases, transport: partitionedTransport(), tickMs: 9_000 })).toThrow(RangeError);
    await member.join(engine);
    expect(E.isRight(await engine.startSaga('waits', 'fenced-1', { id: 'fenced-1' }))).toBe(true);
    clock = 7_999;
    expect(member.holds(partitionOf('fenced-2', partitions))).toBe(true);
    clock = 8_000;
    expect(member.holds(partitionOf('fenced-2', partitions))).toBe(false);
    await expect(engine.startSaga('waits', 'fenced-2', { id: 'fenced-2' })).rejects.toBeInstanceOf(NotOwnerError);
    expect(await store.getInstance('fenced-2')).toBeUndefined();
    // The store still holds the leases for this engine: nobody else can take them yet.
    expect(await leases.acquire(partitionOf('fenced-2', partitions), 'b')).toBeNull();
  });
});
