/**
 * Several engines sharing one namespace, as processes (`sagaflow run`) over a real nats-server and one
 * SQLite store file, with the trip-booking saga (a parallel group) and its four worker processes:
 * engines killed (SIGKILL) and restarted mid-run, an engine paused (SIGSTOP) past its lease, engines
 * joining mid-run. Afterwards every instance has ended as its input dictates, every business effect
 * was applied once (the workers' barrier and booking tables), every instance's log replays, and no
 * decision was recorded twice. Takeover times are reported, and bounded only generously (speed is the
 * bench's to measure).
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createRegistry, partitionOf, type SagaEvent } from '@sagaflow/core';
import { readClusterView, type ClusterView } from '@sagaflow/nats';
import tripBooking from '../../sagas/trip-booking.saga.js';
import { tripExample } from '../../examples/trip-booking/trip-example.js';
import { tripPlan, type TripService } from '../../examples/trip-booking/trip-services.js';
import type { Child } from '../support/processes.js';
import { SagaCluster } from '../support/saga-cluster.js';
import { expectSettledOnce } from '../support/saga-invariants.js';

/**
 * Short leases (the shortest allowed), so a partition is taken over well within the trip steps' 5 s
 * timeout; the namespace is created with them. The client keeps at most `window` trips unfinished, as
 * one with bounded concurrency does, so steps rarely time out for want of CPU on this small machine.
 */
const leaseTtlMs = 2_000;
const engineArgs = ['--lease-ttl-ms', String(leaseTtlMs)];
const window = 100;
/** Generous: a takeover waits for the lease to lapse, the next round of the taker (a quarter TTL), then recovers the partition's instances. */
const takeoverBudgetMs = leaseTtlMs + 15_000;

let cluster: SagaCluster<TripService> | null = null;
afterEach(async () => {
  await cluster?.stop();
  cluster = null;
});

const compensationsOf = (events: readonly SagaEvent[]): string[] => events.flatMap((event) => (event.type === 'CompensationSucceeded' ? [event.step] : []));

/**
 * Ends as its input dictates: which bookings were cancelled, and whether the hotel refused. A step that
 * timed out (its reply came too late: the machine was slow, its partition changing hands) has an
 * unknown outcome and is compensated if it has a compensation, as the design says: it is expected among
 * the compensations then. The charge, the last step, has none.
 */
function tripCheck(n: number, events: readonly SagaEvent[]): string | null {
  const compensated = compensationsOf(events).sort().join(',');
  const compensable = (step: string): boolean => tripBooking.steps.get(step)?.compensation !== undefined;
  const timedOut = events.flatMap((event) => (event.type === 'StepTimedOut' && compensable(event.step) ? [event.step] : []));
  const planned = tripPlan.noRooms(n) ? ['bookCar', 'bookFlight'] : tripPlan.cardDeclined(n) ? ['bookCar', 'bookFlight', 'bookHotel'] : [];
  const wanted = planned.length === 0 ? '' : [...new Set([...planned, ...timedOut])].sort().join(',');
  if (compensated !== wanted) return `compensated [${compensated}] instead of [${wanted}]`;
  const hotelRefused = events.some((event) => event.type === 'StepFailed' && event.step === 'bookHotel' && event.error.code === 'NoRooms');
  return hotelRefused === tripPlan.noRooms(n) ? null : `hotel refusal ${hotelRefused ? 'unexpected' : 'missing'}`;
}

function expectedCounts(count: number): Record<string, number> {
  const all = Array.from({ length: count }, (_, n) => n);
  const compensated = all.filter((n) => tripPlan.noRooms(n) || tripPlan.cardDeclined(n)).length;
  return { completed: count - compensated, compensated };
}

async function view(on: SagaCluster<TripService>): Promise<ClusterView> {
  const connection = await on.nats();
  const seen = await readClusterView(jetstream(connection), await jetstreamManager(connection), on.names);
  if (seen === null) throw new Error('the namespace has no partitions');
  return seen;
}

/** Waits until every partition is held and the engines named hold within one of an even share. */
async function balanced(on: SagaCluster<TripService>, engines: readonly string[], timeoutMs = 30_000): Promise<ClusterView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = await view(on);
    const shares = engines.map((id) => seen.partitions.filter((partition) => partition.owner === id).length);
    const allHeld = seen.partitions.every((partition) => partition.owner !== null && engines.includes(partition.owner));
    if (allHeld && Math.max(...shares) - Math.min(...shares) <= 1) return seen;
    if (Date.now() > deadline) throw new Error(`not balanced over ${engines.join(', ')} after ${timeoutMs} ms: shares ${shares.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const heldBy = (seen: ClusterView, id: string): Set<number> => new Set(seen.partitions.filter((partition) => partition.owner === id).map((partition) => partition.partition));

/** Kill → the first event recorded for an instance of the dead engine's partitions after the kill, in ms. */
async function takeoverMs(on: SagaCluster<TripService>, partitions: ReadonlySet<number>, killedAt: number, total: number): Promise<number> {
  const seen = await view(on);
  let first = Number.POSITIVE_INFINITY;
  for (let after = -1; ; ) {
    const page = await on.eventStore().readAll(after, 5_000);
    for (const event of page) {
      if (event.recordedAt > killedAt && partitions.has(partitionOf(event.instanceId, seen.config.partitions))) first = Math.min(first, event.recordedAt);
    }
    const last = page[page.length - 1];
    if (last === undefined || page.length < 5_000) break;
    after = last.position;
  }
  if (!Number.isFinite(first)) throw new Error(`no event of the ${partitions.size} partitions after the kill (${total} instances)`);
  return first - killedAt;
}

/** Instances whose append was refused for an expected revision, and how often, from the engines' warnings. */
function refusedAppends(engines: Iterable<Child>): Map<string, number> {
  const refused = new Map<string, number>();
  for (const engine of engines) {
    for (const match of engine.stderr.join('').matchAll(/append refused for an expected revision: Instance "([^"]+)"/gu)) {
      const id = match[1] ?? '';
      refused.set(id, (refused.get(id) ?? 0) + 1);
    }
  }
  return refused;
}

async function startWorkers(on: SagaCluster<TripService>): Promise<void> {
  await Promise.all(tripExample.services.map((service) => on.startWorker(service)));
}

describe('several engines sharing a namespace', () => {
  it('3,000 trips over three engines, one killed at 30%, another at 60% and restarted: every trip ends as dictated, each effect once', async () => {
    const count = 3_000;
    cluster = new SagaCluster(tripExample, inject('natsUrl'));
    const on = cluster;
    for (const id of ['engine-1', 'engine-2', 'engine-3']) await on.startEngineAs(id, engineArgs);
    await startWorkers(on);
    await balanced(on, ['engine-1', 'engine-2', 'engine-3']);

    const starting = on.startInstancesPaced(0, count, window);
    await on.finishedAtLeast(count * 0.3, count, 120_000);
    const before30 = await view(on);
    const first = { partitions: heldBy(before30, 'engine-1'), at: Date.now() };
    await on.kill(on.engines.get('engine-1'));

    await on.finishedAtLeast(count * 0.6, count, 120_000);
    const before60 = await view(on);
    const second = { partitions: heldBy(before60, 'engine-2'), at: Date.now() };
    await on.kill(on.engines.get('engine-2'));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await on.startEngineAs('engine-2-restarted', engineArgs);

    await starting;
    const counts = await on.settled(count, 240_000);
    expect(Object.fromEntries(counts)).toEqual(expectedCounts(count));
    await balanced(on, ['engine-2-restarted', 'engine-3']);

    await expectSettledOnce(tripExample, createRegistry([tripBooking]), on.eventStore(), on.databases(), count, tripCheck);
    const takeovers = [await takeoverMs(on, first.partitions, first.at, count), await takeoverMs(on, second.partitions, second.at, count)];
    console.log(`takeover (kill → first decision by the new owner), lease TTL ${leaseTtlMs} ms: ${takeovers.map((ms) => `${ms} ms`).join(', ')}`);
    for (const ms of takeovers) expect(ms).toBeLessThanOrEqual(takeoverBudgetMs);
  }, 480_000);

  it('an engine paused past its lease loses its partitions, and nothing it appends afterwards contradicts the new owner', async () => {
    const count = 400;
    cluster = new SagaCluster(tripExample, inject('natsUrl'));
    const on = cluster;
    const paused = await on.startEngineAs('engine-paused', engineArgs);
    await on.startEngineAs('engine-steady', engineArgs);
    await startWorkers(on);
    await balanced(on, ['engine-paused', 'engine-steady']);

    const starting = on.startInstancesPaced(0, count, window, 20);
    await on.finishedAtLeast(count * 0.2, count, 60_000);
    const held = heldBy(await view(on), 'engine-paused');
    paused.process.kill('SIGSTOP');
    const stoppedAt = Date.now();
    // Past its lease: the steady engine takes every partition over meanwhile.
    await balanced(on, ['engine-steady'], takeoverBudgetMs).catch((error: unknown) => {
      throw new Error(`${error instanceof Error ? error.message : String(error)}; steady engine: ${on.engines.get('engine-steady')?.lines.slice(-10).join('\n') ?? ''}`);
    });
    paused.process.kill('SIGCONT');
    await paused.waitFor(/lost partition|took partition/u, 30_000).catch(() => undefined);

    await starting;
    const counts = await on.settled(count, 180_000);
    expect(Object.fromEntries(counts)).toEqual(expectedCounts(count));
    // It let go of what it held before taking anything back: its clock said the leases had lapsed, or the store that another engine holds them.
    expect(paused.stderr.join('')).toMatch(/lost partition \d+: (its lease lapsed before it could be renewed|another engine holds its lease)/u);
    await balanced(on, ['engine-paused', 'engine-steady']);
    await expectSettledOnce(tripExample, createRegistry([tripBooking]), on.eventStore(), on.databases(), count, tripCheck);
    console.log(`paused engine: ${held.size} partition(s) taken over ${await takeoverMs(on, held, stoppedAt, count)} ms after SIGSTOP`);
  }, 300_000);

  it('engines joining mid-run take their share, and no instance is decided by two engines at once', async () => {
    const count = 1_500;
    cluster = new SagaCluster(tripExample, inject('natsUrl'));
    const on = cluster;
    await on.startEngineAs('engine-a', engineArgs);
    await startWorkers(on);
    await balanced(on, ['engine-a']);

    const starting = on.startInstancesPaced(0, count, window);
    await on.finishedAtLeast(count * 0.3, count, 120_000);
    await on.startEngineAs('engine-b', engineArgs);
    await on.finishedAtLeast(count * 0.6, count, 120_000);
    await on.startEngineAs('engine-c', engineArgs);

    await starting;
    const counts = await on.settled(count, 240_000);
    expect(Object.fromEntries(counts)).toEqual(expectedCounts(count));
    await balanced(on, ['engine-a', 'engine-b', 'engine-c']);
    await expectSettledOnce(tripExample, createRegistry([tripBooking]), on.eventStore(), on.databases(), count, tripCheck);
    const refused = refusedAppends(on.engines.values());
    console.log(`appends refused for an expected revision: ${[...refused.values()].reduce((a, b) => a + b, 0)} over ${refused.size} instance(s)`);
    expect([...refused].filter(([, times]) => times > 1)).toEqual([]);
  }, 480_000);
});
