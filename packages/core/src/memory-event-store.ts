import { checkAppendRequest, checkLimit } from './append-request.js';
import {
  EventStoreUnavailableError,
  WrongExpectedRevisionError,
  type AppendRequest,
  type AppendResult,
  type EventStore,
  type InstanceFilter,
  type InstanceSummary,
  type RecordedEvent,
  defaultListLimit,
} from './event-store.js';

/** Options of {@link createMemoryEventStore}. */
export interface MemoryEventStoreOptions {
  /**
   * The clock stamping `recordedAt`, epoch milliseconds. The core reads no clock of its own (time is an
   * input), so by default an append's events are stamped with its summary's `updatedAt`, the time the
   * engine decided them at: deterministic, and close to what a durable store would record.
   */
  readonly now?: () => number;
}

/** Default page size of `listInstances`, as the port documents. */

/**
 * An {@link EventStore} kept in memory, for unit tests and tools: no I/O, nothing survives the process.
 * It behaves like the durable adapters (same contract suite): appends are atomic, `appendMany` checks
 * each request on its own, positions start at 1 and only grow, listings are newest change first with
 * ties broken by instance id in descending code point order (SQLite's binary order of UTF-8 text).
 * Stored events and listing rows are frozen copies, so callers cannot change history by mutation.
 */
export function createMemoryEventStore(options: MemoryEventStoreOptions = {}): EventStore {
  const streams = new Map<string, RecordedEvent[]>();
  const log: RecordedEvent[] = [];
  const instances = new Map<string, InstanceSummary>();
  let lastPosition = 0;
  let closed = false;

  const ensureOpen = (): void => {
    if (closed) throw new EventStoreUnavailableError('memory:', 'the store is closed');
  };

  const appendOne = (request: AppendRequest): AppendResult | WrongExpectedRevisionError => {
    const stream = streams.get(request.instanceId) ?? [];
    const actual = stream.length - 1;
    if (actual !== request.expectedRevision) return new WrongExpectedRevisionError(request.instanceId, request.expectedRevision, actual);
    const recordedAt = options.now?.() ?? request.summary.updatedAt;
    let revision = actual;
    for (const event of request.events) {
      revision += 1;
      lastPosition += 1;
      const recorded: RecordedEvent = Object.freeze({
        instanceId: request.instanceId,
        revision,
        position: lastPosition,
        type: event.type,
        json: event.json,
        recordedAt,
      });
      stream.push(recorded);
      log.push(recorded);
    }
    streams.set(request.instanceId, stream);
    instances.set(request.instanceId, Object.freeze({ ...request.summary }));
    return { revision, position: lastPosition };
  };

  return {
    append: (request) =>
      settle(() => {
        ensureOpen();
        checkAppendRequest(request);
        const result = appendOne(request);
        if (result instanceof WrongExpectedRevisionError) throw result;
        return result;
      }),

    appendMany: (requests) =>
      settle(() => {
        ensureOpen();
        requests.forEach(checkAppendRequest);
        return requests.map(appendOne);
      }),

    readStream: (instanceId) =>
      settle(() => {
        ensureOpen();
        return [...(streams.get(instanceId) ?? [])];
      }),

    readAll: (afterPosition, limit) =>
      settle(() => {
        ensureOpen();
        checkLimit('readAll', limit);
        const start = firstAfter(log, afterPosition);
        return log.slice(start, start + limit);
      }),

    listInstances: (filter = {}) =>
      settle(() => {
        ensureOpen();
        const limit = filter.limit ?? defaultListLimit;
        checkLimit('listInstances', limit);
        return [...instances.values()].filter(matches(filter)).sort(newestFirst).slice(0, limit);
      }),

    getInstance: (instanceId) =>
      settle(() => {
        ensureOpen();
        return instances.get(instanceId);
      }),

    close: () =>
      settle(() => {
        closed = true;
      }),
  };
}

/** Runs `work` now and turns its result or exception into a settled promise. */
const settle = <T>(work: () => T): Promise<T> => new Promise<T>((resolve) => resolve(work()));

/** Index of the first event strictly after `position` in a log ordered by position. */
function firstAfter(log: readonly RecordedEvent[], position: number): number {
  let low = 0;
  let high = log.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((log[middle]?.position ?? Infinity) <= position) low = middle + 1;
    else high = middle;
  }
  return low;
}

const matches =
  (filter: InstanceFilter) =>
  (summary: InstanceSummary): boolean =>
    (filter.saga === undefined || summary.saga === filter.saga) &&
    (filter.statuses === undefined || filter.statuses.length === 0 || filter.statuses.includes(summary.status)) &&
    (filter.updatedSince === undefined || summary.updatedAt >= filter.updatedSince) &&
    (filter.updatedBefore === undefined || summary.updatedAt < filter.updatedBefore) &&
    (filter.startedSince === undefined || summary.startedAt >= filter.startedSince) &&
    (filter.startedBefore === undefined || summary.startedAt < filter.startedBefore) &&
    (filter.idPrefix === undefined || summary.instanceId.startsWith(filter.idPrefix)) &&
    (filter.after === undefined || newestFirst(summary, filter.after) > 0);

/** Listing order: latest `updatedAt` first, then instance id descending. */
const newestFirst = (
  a: { readonly updatedAt: number; readonly instanceId: string },
  b: { readonly updatedAt: number; readonly instanceId: string },
): number => b.updatedAt - a.updatedAt || compareCodePoints(b.instanceId, a.instanceId);

/**
 * Compares strings by code point, the order of their UTF-8 bytes (what SQLite's BINARY collation uses),
 * rather than by UTF-16 code unit, which puts U+E000..U+FFFF after astral characters.
 */
function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index += 1) {
    const x = a.charCodeAt(index);
    const y = b.charCodeAt(index);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Moves surrogates above U+E000..U+FFFF so a first differing code unit orders like its code point. */
const codePointRank = (unit: number): number => (unit >= 0xd800 && unit <= 0xdfff ? unit + 0x2000 : unit >= 0xe000 ? unit - 0x800 : unit);
