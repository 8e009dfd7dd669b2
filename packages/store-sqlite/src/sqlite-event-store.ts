import type Database from 'better-sqlite3';
import {
  EventStoreUnavailableError,
  defaultListLimit,
  checkAppendRequest,
  checkLimit,
  WrongExpectedRevisionError,
  noStream,
  type AppendRequest,
  type AppendResult,
  type EventStore,
  type InstanceSummary,
  type RecordedEvent,
} from '@sagaflow/core';

import { defaultBusyTimeoutMs, openDatabase, unavailable } from './connection.js';
import { eventInserts } from './event-inserts.js';
import { listingQuery, type ListingParams } from './instance-listing.js';

/** Options of {@link openSqliteEventStore}. */
export interface SqliteEventStoreOptions {
  /**
   * How long a write waits for another connection's or process's lock, in milliseconds (default 5000).
   * Opening the file waits longer, up to ten minutes, for a process creating its schema or moving it to
   * this version's.
   */
  readonly busyTimeoutMs?: number;
  /** The clock stamping `recordedAt`, epoch milliseconds (default `Date.now`). */
  readonly now?: () => number;
  /**
   * Told when a file written by an earlier version is moved to this version's schema, as it begins and
   * when it is done: once per file, at open, holding the file's write lock (seconds per million events).
   */
  readonly log?: (line: string) => void;
}

/** The listing row's columns, in the order the statements below bind them (the instance id last). */
type ListingRow = [string, number, string, string, string | null, number, number, number, number, string];

const eventColumns = 'position, instance_id AS instanceId, revision, type, json, recorded_at AS recordedAt';
const summaryColumns =
  'instance_id AS instanceId, saga, version, status, state, current_step AS currentStep, attempts, revision, ' +
  'started_at AS startedAt, updated_at AS updatedAt';

/**
 * Opens the event store kept in the SQLite file at `path`, creating the file, its parent directory and
 * the schema if missing. Several processes may open the same file: writes wait for each other
 * (see {@link SqliteEventStoreOptions.busyTimeoutMs}) and the expected revision decides who wins.
 *
 * Every append commits in one transaction with `synchronous = FULL`: once its promise resolves, the events
 * and the listing row survive a crash or power loss. `appendMany` commits all its requests in one
 * transaction (one fsync). Reads return the stored JSON text as is; decoding is the core's job.
 * @throws EventStoreUnavailableError naming `path` if it cannot be opened, is not a Sagaflow store,
 *   or has a schema newer than this code.
 */
export function openSqliteEventStore(path: string, options: SqliteEventStoreOptions = {}): EventStore {
  const now = options.now ?? Date.now;
  const db = openDatabase(path, options.busyTimeoutMs ?? defaultBusyTimeoutMs, options.log);

  const lastRevision = db.prepare<[string], number>('SELECT revision FROM instances WHERE instance_id = ?').pluck();
  const insertEvents = eventInserts(db);
  // The listing row carries the instance's revision, written in the same transaction as its events, so
  // claiming it checks the expected revision: a new instance's insert finds no row, a later append's update
  // finds the row at the expected revision. Nothing returned means another writer was first. The row's
  // `stream` keys the instance's events (schema.ts: streamKeyedEvents).
  const insertInstance = db
    .prepare<ListingRow, number>(
      `INSERT INTO instances (saga, version, status, state, current_step, attempts, revision, started_at, updated_at, instance_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (instance_id) DO NOTHING RETURNING stream`,
    )
    .pluck();
  const updateInstance = db
    .prepare<[...ListingRow, number], number>(
      `UPDATE instances SET saga = ?, version = ?, status = ?, state = ?, current_step = ?, attempts = ?, revision = ?, started_at = ?, updated_at = ?
     WHERE instance_id = ? AND revision = ? RETURNING stream`,
    )
    .pluck();
  const selectStream = db.prepare<[string], RecordedEvent>(
    `SELECT ${eventColumns} FROM events WHERE stream = (SELECT stream FROM instances WHERE instance_id = ?) ORDER BY revision`,
  );
  const selectAll = db.prepare<[number, number], RecordedEvent>(`SELECT ${eventColumns} FROM events WHERE position > ? ORDER BY position LIMIT ?`);
  const selectInstance = db.prepare<[string], InstanceSummary>(`SELECT ${summaryColumns} FROM instances WHERE instance_id = ?`);
  const listings = new Map<string, Database.Statement<[ListingParams], InstanceSummary>>();

  const appendOne = (request: AppendRequest): AppendResult | WrongExpectedRevisionError => {
    const { instanceId, expectedRevision, events } = request;
    const { saga, version, status, state, currentStep, attempts, startedAt, updatedAt } = request.summary;
    const revision = expectedRevision + events.length;
    const stream =
      expectedRevision === noStream
        ? insertInstance.get(saga, version, status, state, currentStep, attempts, revision, startedAt, updatedAt, instanceId)
        : updateInstance.get(saga, version, status, state, currentStep, attempts, revision, startedAt, updatedAt, instanceId, expectedRevision);
    if (stream === undefined) return new WrongExpectedRevisionError(instanceId, expectedRevision, lastRevision.get(instanceId) ?? noStream);
    const position = insertEvents(stream, instanceId, expectedRevision + 1, events, now());
    return { revision, position };
  };

  // IMMEDIATE takes the write lock before reading the revisions: a deferred transaction would have to
  // upgrade its read lock, which fails at once (SQLITE_BUSY, no waiting) when another process wrote meanwhile.
  const appendAll = db.transaction((requests: readonly AppendRequest[]) => requests.map(appendOne));

  /** Runs `work` on the open database, turning SQLite failures into the port's error. */
  const use = <T>(work: () => T): Promise<T> =>
    new Promise<T>((resolve) => {
      if (!db.open) throw new EventStoreUnavailableError(path, 'the store is closed');
      try {
        resolve(work());
      } catch (error) {
        throw unavailable(path, error);
      }
    });

  return {
    append: (request) =>
      use(() => {
        checkAppendRequest(request);
        const [result] = appendAll.immediate([request]);
        if (result === undefined || result instanceof WrongExpectedRevisionError) throw result ?? new Error('append returned no result');
        return result;
      }),

    appendMany: (requests) =>
      use(() => {
        requests.forEach(checkAppendRequest);
        return requests.length === 0 ? [] : appendAll.immediate(requests);
      }),

    readStream: (instanceId) => use(() => selectStream.all(instanceId)),

    readAll: (afterPosition, limit) =>
      use(() => {
        checkLimit('readAll', limit);
        return selectAll.all(afterPosition, limit);
      }),

    listInstances: (filter = {}) =>
      use(() => {
        const limit = filter.limit ?? defaultListLimit;
        checkLimit('listInstances', limit);
        const { sql, params } = listingQuery(filter, limit);
        let statement = listings.get(sql);
        if (statement === undefined) {
          statement = db.prepare<[ListingParams], InstanceSummary>(sql);
          listings.set(sql, statement);
        }
        return statement.all(params);
      }),

    getInstance: (instanceId) => use(() => selectInstance.get(instanceId)),

    close: () =>
      new Promise<void>((resolve) => {
        if (db.open) db.close();
        resolve();
      }),
  };
}
