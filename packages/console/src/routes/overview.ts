import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { terminalStatuses, type InstanceFilter, type InstanceSummary, type SagaStatus } from '@sagaflow/core';
import { percentile } from '@sagaflow/inspect';
import { NoEngineError, pingEngine, readClusterView } from '@sagaflow/nats';
import type { FastifyInstance } from 'fastify';
import { refuse, type ConsoleContext } from '../context.js';

/** Rows read per page when the overview walks the listing. */
const page = 5_000;

/** Every listing row matching `filter`, page by page (the listing's keyset order). */
async function* rowsOf(context: ConsoleContext, filter: InstanceFilter): AsyncGenerator<InstanceSummary> {
  let after: InstanceFilter['after'];
  for (;;) {
    const rows = await context.store.listInstances({ ...filter, limit: page, ...(after === undefined ? {} : { after }) });
    yield* rows;
    const last = rows.at(-1);
    if (last === undefined || rows.length < page) return;
    after = { updatedAt: last.updatedAt, instanceId: last.instanceId };
  }
}

/** One minute (or the window's step) of the throughput and latency charts. */
export interface SeriesPoint {
  /** The bucket's start, epoch ms. */
  readonly at: number;
  readonly completed: number;
  readonly compensated: number;
  readonly other: number;
  /** Start → end of the instances that ended in the bucket, ms; null when none did. */
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

/** Counts per saga and status, over the whole listing (a walk of it, kept for a few seconds). */
function countsCache(context: ConsoleContext): () => Promise<Record<string, Partial<Record<SagaStatus, number>>>> {
  let cached: { at: number; value: Promise<Record<string, Partial<Record<SagaStatus, number>>>> } | null = null;
  return () => {
    if (cached !== null && Date.now() - cached.at < 5_000) return cached.value;
    const value = (async () => {
      const counts: Record<string, Partial<Record<SagaStatus, number>>> = {};
      for await (const row of rowsOf(context, {})) {
        const bySaga = (counts[row.saga] ??= {});
        bySaga[row.status] = (bySaga[row.status] ?? 0) + 1;
      }
      return counts;
    })();
    cached = { at: Date.now(), value };
    value.catch(() => (cached = null));
    return value;
  };
}

/** The Overview page: counts, throughput and latency over time, and the engines. */
export function overviewRoutes(app: FastifyInstance, context: ConsoleContext): void {
  const counts = countsCache(context);

  app.get<{ Querystring: { minutes?: string } }>('/api/overview', async (request, reply) => {
    const minutes = request.query.minutes === undefined ? 60 : /^\d{1,4}$/u.test(request.query.minutes) ? Number(request.query.minutes) : Number.NaN;
    if (!(minutes >= 5 && minutes <= 1440)) return refuse(reply, 400, 'BadRequest', `minutes takes a whole number from 5 to 1440, not "${request.query.minutes ?? ''}"`);
    const now = Date.now();
    const step = minutes <= 60 ? 60_000 : Math.ceil(minutes / 60) * 60_000;
    const from = Math.floor((now - minutes * 60_000) / step) * step;
    const buckets = new Map<number, { completed: number; compensated: number; other: number; latencies: number[] }>();
    for (let at = from; at <= now; at += step) buckets.set(at, { completed: 0, compensated: 0, other: 0, latencies: [] });
    for await (const row of rowsOf(context, { updatedSince: from, statuses: [...terminalStatuses] })) {
      const bucket = buckets.get(Math.floor(row.updatedAt / step) * step);
      if (bucket === undefined) continue;
      if (row.status === 'completed') bucket.completed++;
      else if (row.status === 'compensated') bucket.compensated++;
      else bucket.other++;
      bucket.latencies.push(row.updatedAt - row.startedAt);
    }
    const series: SeriesPoint[] = [...buckets].map(([at, b]) => {
      const sorted = b.latencies.sort((x, y) => x - y);
      return { at, completed: b.completed, compensated: b.compensated, other: b.other, p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99) };
    });
    return { counts: await counts(), stepMs: step, series };
  });

  app.get('/api/engines', async () => {
    const jsm = await jetstreamManager(context.connection);
    const [view, ping] = await Promise.all([
      readClusterView(jetstream(context.connection), jsm, context.names).catch(() => null),
      pingEngine(context.connection, context.names, 2_000).then(
        (status) => ({ ok: true as const, status }),
        (error: unknown) => ({ ok: false as const, reason: error instanceof NoEngineError ? error.reason : error instanceof Error ? error.message : String(error) }),
      ),
    ]);
    const now = Date.now();
    return {
      namespace: context.names.namespace,
      answering: ping.ok ? { sagas: ping.status.sagas, startedAt: ping.status.startedAt, engine: ping.status.engine?.id ?? null } : null,
      problem: ping.ok ? null : `No engine answered: ${ping.reason}`,
      partitions: view?.config.partitions ?? null,
      leaseTtlMs: view?.config.leaseTtlMs ?? null,
      engines: (view?.engines ?? []).map((engine) => {
        const held = view?.partitions.filter((partition) => partition.owner === engine.id) ?? [];
        const renewals = held.flatMap((partition) => (partition.renewedAt === null ? [] : [partition.renewedAt]));
        return {
          id: engine.id,
          host: engine.host,
          startedAt: engine.startedAt,
          partitions: held.map((partition) => partition.partition),
          oldestLeaseAgeMs: renewals.length === 0 ? null : now - Math.min(...renewals),
          instancesInMemory: engine.instancesInMemory,
          timersArmed: engine.timersArmed,
        };
      }),
      unowned: view?.partitions.filter((partition) => partition.owner === null).map((partition) => partition.partition) ?? [],
    };
  });
}
