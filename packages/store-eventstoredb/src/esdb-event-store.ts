import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
  type Position,
} from '@eventstore/db-client';
import {
  checkAppendRequest,
  checkLimit,
  EventStoreUnavailableError,
  noStream,
  WrongExpectedRevisionError,
  type AppendRequest,
  type AppendResult,
  type EventStore,
  type InstanceSummary,
  type RecordedEvent,
  defaultListLimit,
} from '@sagaflow/core';
import { followAll } from './all-feed.js';
import { maskConnectionString, unavailable, withTimeout } from './connection.js';
import { decodeEvent, encodeAppend, positionOf } from './event-codec.js';
import { InstanceListing } from './instance-listing.js';
import { ListingProjection } from './listing-projection.js';
import { checkCategory, defaultCategory, instanceIdOf, streamNameOf, streamPrefixOf } from './stream-names.js';

/** Options of {@link openEventStoreDbStore}. */
export interface EventStoreDbStoreOptions {
  /**
   * The SQLite file keeping the instance listing (`listInstances`, `getInstance`), a read model of the log
   * (default `:memory:`: kept in memory and rebuilt from the whole log at every open). Give a file to keep
   * it across restarts: the store then only catches up on what was appended since it last ran. Several
   * stores, in one process or several, may share the file. Never the file of a SQLite event store.
   */
  readonly listingPath?: string;
  /** The category of the instance streams, `<category>-<instanceId>` (default `sagaflow_instance`); no `-`. */
  readonly category?: string;
  /** How long opening waits for the server to answer, in ms (default 5000). */
  readonly connectTimeoutMs?: number;
  /** How long opening waits for the listing to catch up with the log, in ms (default 60000). */
  readonly catchUpTimeoutMs?: number;
  /** How long a listing write waits for another process's lock on the listing file, in ms (default 5000). */
  readonly busyTimeoutMs?: number;
}

/** The store this adapter opens: the port, plus what its operators and tests may want to know. */
export interface EventStoreDbStore extends EventStore {
  /** The connection string, credentials masked. */
  readonly url: string;
  /** The stream of an instance. */
  streamNameOf(instanceId: string): string;
}

/**
 * Opens the Sagaflow event store kept in EventStoreDB at `connectionString` (any EventStoreDB connection
 * string, e.g. `esdb://localhost:2113?tls=false` or `esdb://admin:changeit@host:2113`), with the instance
 * listing as a read model in a local SQLite file (see {@link EventStoreDbStoreOptions.listingPath}).
 *
 * Each instance is one stream, `sagaflow_instance-<instanceId>`; appends carry the expected revision
 * (`NO_STREAM` for the first), so two writers of one instance get exactly one success per revision and the
 * other a {@link WrongExpectedRevisionError}. Every event carries `$correlationId` (the instance id) and
 * `$causationId` metadata. `readAll` and the listing follow `$all` through subscriptions filtered on the
 * streams' prefix; positions are the events' `$all` commit positions. Requires EventStoreDB 23.10 or later
 * (subscriptions that report when they have caught up, positions on stream reads).
 *
 * Resolves once the server answered and the listing has caught up with the log.
 * @throws EventStoreUnavailableError naming the URL (password masked) when the connection string is
 *   invalid, the server cannot be reached or refuses the reads, or the listing file cannot be used.
 */
export async function openEventStoreDbStore(connectionString: string, options: EventStoreDbStoreOptions = {}): Promise<EventStoreDbStore> {
  const url = maskConnectionString(connectionString);
  const category = options.category ?? defaultCategory;
  checkCategory(category);
  const prefix = streamPrefixOf(category);

  let client: EventStoreDBClient;
  try {
    client = EventStoreDBClient.connectionString(connectionString);
  } catch (error) {
    throw unavailable(url, error, 'invalid connection string');
  }

  let listing: InstanceListing | undefined;
  let projection: ListingProjection | undefined;
  const release = async (): Promise<void> => {
    await projection?.stop().catch(() => undefined);
    await client.dispose().catch(() => undefined);
    listing?.close();
  };

  try {
    const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
    const head = await withTimeout(
      lastPositionOfAll(client),
      connectTimeoutMs,
      () => new EventStoreUnavailableError(url, `no answer within ${connectTimeoutMs} ms`),
    ).catch((error: unknown) => {
      throw unavailable(url, error, 'cannot read from it');
    });
    listing = InstanceListing.open(options.listingPath ?? ':memory:', category, options.busyTimeoutMs ?? 5_000);
    // A listing that has seen further than the log reaches was kept for another (or a recreated) database.
    const checkpoint = listing.checkpoint();
    if (checkpoint !== null && (head === null || checkpoint.commit > head.commit)) listing.reset();
    projection = new ListingProjection(client, listing, category);
    const catchUpTimeoutMs = options.catchUpTimeoutMs ?? 60_000;
    await withTimeout(
      projection.start(),
      catchUpTimeoutMs,
      () => new EventStoreUnavailableError(url, `the instance listing did not catch up with the log within ${catchUpTimeoutMs} ms (a server before EventStoreDB 23.10 never says when a subscription has caught up)`),
    ).catch((error: unknown) => {
      throw unavailable(url, error, 'cannot follow $all');
    });
  } catch (error) {
    await release();
    throw error;
  }

  const openListing = listing;
  let closed = false;
  /** Whether the client's append stream is open (an append succeeded and none failed since), so appends keep their order. */
  let pipelining = false;

  /**
   * Runs `work` on the open store after `check` (which rejects malformed arguments with a TypeError),
   * turning failures of the client into the port's error.
   */
  const use = async <T>(work: () => Promise<T>, check: () => void = () => undefined): Promise<T> => {
    if (closed) throw new EventStoreUnavailableError(url, 'the store is closed');
    check();
    try {
      return await work();
    } catch (error) {
      if (error instanceof WrongExpectedRevisionError || error instanceof EventStoreUnavailableError) throw error;
      throw unavailable(url, error);
    }
  };

  const appendOne = async (request: AppendRequest): Promise<AppendResult | WrongExpectedRevisionError> => {
    const { instanceId, expectedRevision } = request;
    let written: Awaited<ReturnType<EventStoreDBClient['appendToStream']>>;
    try {
      written = await client.appendToStream(streamNameOf(category, instanceId), encodeAppend(request), {
        expectedRevision: expectedRevision === noStream ? NO_STREAM : BigInt(expectedRevision),
      });
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError)) {
        pipelining = false;
        throw error;
      }
      pipelining = true;
      const actual = typeof error.actualVersion === 'bigint' ? Number(error.actualVersion) : noStream;
      return new WrongExpectedRevisionError(instanceId, expectedRevision, actual);
    }
    pipelining = true;
    const revision = Number(written.nextExpectedRevision);
    // EventStoreDB answers an append with the position of its last event (commit = prepare, as for every
    // event appended through gRPC), the same number a read of that event reports.
    const position = written.position === undefined ? undefined : Number(written.position.commit);
    if (position === undefined) throw new Error(`EventStoreDB reported no position for the append to instance "${instanceId}"`);
    return { revision, position };
  };

  /**
   * Read-your-writes: applies the listing rows of stored appends, in one transaction, before the appends
   * are acknowledged. The subscription applies the same rows again later, which changes nothing.
   */
  const applyRows = (summaries: readonly InstanceSummary[]): void => {
    try {
      openListing.apply(summaries);
    } catch {
      // The listing file is busy or gone: the events are stored, and the subscription applies the rows.
    }
  };

  // EventStoreDB has no transaction across streams: the "grouped commit" is a batch of independent
  // appends, sent together over one connection in request order (so different instances land in
  // request order) and answered each on its own. Requests for the same instance wait for the one
  // before them, so a later one is checked against what the earlier one wrote.
  const appendAll = async (requests: readonly AppendRequest[]): Promise<(AppendResult | WrongExpectedRevisionError)[]> => {
    const previous = new Map<string, Promise<unknown>>();
    const launch = (request: AppendRequest): Promise<AppendResult | WrongExpectedRevisionError> => {
      const next = (previous.get(request.instanceId) ?? Promise.resolve()).then(
        () => appendOne(request),
        () => appendOne(request),
      );
      previous.set(request.instanceId, next);
      return next;
    };
    const launched: Promise<AppendResult | WrongExpectedRevisionError>[] = [];
    const [first, ...rest] = requests;
    if (first !== undefined) {
      launched.push(launch(first));
      // The client opens its append stream with the first append; appends started while it opens
      // could overtake that first one. So the first append after opening (or after a failure) goes alone.
      if (!pipelining) await launched[0]?.catch(() => undefined);
    }
    launched.push(...rest.map(launch));
    const outcomes = await Promise.allSettled(launched);
    applyRows(
      requests.filter((_, at) => {
        const outcome = outcomes[at];
        return outcome?.status === 'fulfilled' && !(outcome.value instanceof WrongExpectedRevisionError);
      }).map((request) => request.summary),
    );
    return outcomes.map((outcome) => {
      if (outcome.status === 'rejected') throw outcome.reason;
      return outcome.value;
    });
  };

  /**
   * The instance events strictly after `afterPosition` (-1 or 0: from the start; otherwise a position this
   * store returned), at most `limit`: a catch-up subscription to `$all` filtered on the streams' prefix,
   * ended at `limit` events or when it has caught up.
   */
  const readAllAfter = (afterPosition: number, limit: number): Promise<RecordedEvent[]> => {
    if (limit === 0) return Promise.resolve([]);
    const from = afterPosition > 0 ? { commit: BigInt(afterPosition), prepare: BigInt(afterPosition) } : null;
    return new Promise<RecordedEvent[]>((resolve, reject) => {
      const events: RecordedEvent[] = [];
      const feed = followAll(client, prefix, from, {
        event: (resolved) => {
          const event = resolved.event;
          const instanceId = event === undefined ? undefined : instanceIdOf(category, event.streamId);
          if (event === undefined || instanceId === undefined || positionOf(event) <= afterPosition) return;
          events.push(decodeEvent(event, instanceId));
          if (events.length >= limit) {
            resolve(events);
            void feed.stop();
          }
        },
        caughtUp: () => {
          resolve(events);
          void feed.stop();
        },
        failed: reject,
      });
    });
  };

  return {
    url,
    streamNameOf: (instanceId) => streamNameOf(category, instanceId),

    append: (request) =>
      use(
        async () => {
          const result = await appendOne(request);
          if (result instanceof WrongExpectedRevisionError) throw result;
          applyRows([request.summary]);
          return result;
        },
        () => checkAppendRequest(request),
      ),

    appendMany: (requests) => use(() => appendAll(requests), () => requests.forEach(checkAppendRequest)),

    readStream: (instanceId) =>
      use(async () => {
        const events: RecordedEvent[] = [];
        try {
          for await (const resolved of client.readStream(streamNameOf(category, instanceId), { direction: FORWARDS, fromRevision: START })) {
            if (resolved.event !== undefined) events.push(decodeEvent(resolved.event, instanceId));
          }
        } catch (error) {
          if (error instanceof StreamNotFoundError) return [];
          throw error;
        }
        return events;
      }),

    readAll: (afterPosition, limit) => use(() => readAllAfter(afterPosition, limit), () => checkLimit('readAll', limit)),

    listInstances: (filter = {}) =>
      use(
        () => Promise.resolve(openListing.list(filter, filter.limit ?? defaultListLimit)),
        () => checkLimit('listInstances', filter.limit ?? defaultListLimit),
      ),

    getInstance: (instanceId) => use(() => Promise.resolve(openListing.get(instanceId))),

    close: async () => {
      if (closed) return;
      closed = true;
      await release();
    },
  };
}

/** The `$all` position of the last event in the database (null when empty), which also proves the server answers. */
async function lastPositionOfAll(client: EventStoreDBClient): Promise<Position | null> {
  let last: Position | null = null;
  // Read to the end (one event): leaving the loop early would leave the gRPC call open until disposal.
  for await (const resolved of client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 })) last = resolved.event?.position ?? last;
  return last;
}
