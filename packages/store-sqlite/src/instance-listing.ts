import type { InstanceFilter } from '@sagaflow/core';

/** The listing's columns after the instance id, the same in this store's table and the EventStoreDB store's. */
const listingColumns = `
    saga         TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    status       TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    current_step TEXT,
    attempts     INTEGER NOT NULL,
    revision     INTEGER NOT NULL,
    started_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL`;

/**
 * The listing's indexes, one per filter shape of `listInstances`, each ending in the listing order
 * (updated_at, instance_id), so a page is an index range read, never a scan and sort.
 */
export const listingIndexes = `
  CREATE INDEX instances_by_update      ON instances (updated_at, instance_id);
  CREATE INDEX instances_by_saga        ON instances (saga, updated_at, instance_id);
  CREATE INDEX instances_by_status      ON instances (status, updated_at, instance_id);
  CREATE INDEX instances_by_saga_status ON instances (saga, status, updated_at, instance_id);
`;

/** The listing table, one row per instance, with its indexes: the EventStoreDB store's listing read model. */
export const instancesTable = `
  CREATE TABLE instances (
    instance_id  TEXT    NOT NULL PRIMARY KEY,${listingColumns}
  ) STRICT;
  ${listingIndexes}`;

/**
 * This store's listing table (schema version 2), without its indexes: `stream`, the rowid under a name
 * (so VACUUM keeps it), numbers the instances in order of creation and keys their events.
 */
export const streamInstancesTable = `
  CREATE TABLE instances (
    stream       INTEGER PRIMARY KEY,
    instance_id  TEXT    NOT NULL UNIQUE,${listingColumns}
  ) STRICT;`;

/** Parameters bound to a listing query, by name. */
export type ListingParams = Record<string, string | number>;

/** The SQL of one listing page and its parameters. Queries of the same filter shape share the SQL. */
export interface ListingQuery {
  readonly sql: string;
  readonly params: ListingParams;
}

const columns =
  'instance_id AS instanceId, saga, version, status, state, current_step AS currentStep, attempts, revision, ' +
  'started_at AS startedAt, updated_at AS updatedAt';

const order = 'ORDER BY updated_at DESC, instance_id DESC';

/**
 * The filter's simple conditions, each bound by the filter field's name. `saga` is an index prefix and
 * the change window a range of the index; the start window and the id prefix are checked on the rows
 * of that range (`started_at` off the row, `instance_id` off the index key).
 */
const conditions: readonly (readonly ['saga' | 'updatedSince' | 'updatedBefore' | 'startedSince' | 'startedBefore' | 'idPrefix', string])[] = [
  ['saga', 'saga = @saga'],
  ['updatedSince', 'updated_at >= @updatedSince'],
  ['updatedBefore', 'updated_at < @updatedBefore'],
  ['startedSince', 'started_at >= @startedSince'],
  ['startedBefore', 'started_at < @startedBefore'],
  ['idPrefix', 'substr(instance_id, 1, length(@idPrefix)) = @idPrefix'],
];

/**
 * The query listing instances that match `filter`, newest change first (ties: instance id descending).
 * Each filter shape reads one index whose key ends in the listing order, so a page costs its size, not
 * the table's: `saga` and one status are equality prefixes, `updatedSince`, `updatedBefore` and the keyset
 * cursor `after` are a range on the rest; `startedSince`, `startedBefore` and `idPrefix` are checked on the
 * rows of that range (a rare match costs more of the range). Several statuses become one such read per status, merged and cut to the limit.
 * `INDEXED BY` makes a query that cannot use its index fail rather than scan.
 */
export function listingQuery(filter: InstanceFilter, limit: number): ListingQuery {
  const statuses = [...new Set(filter.statuses ?? [])];
  const params: ListingParams = { limit };
  const shared: string[] = [];
  for (const [key, condition] of conditions) {
    const value = filter[key];
    if (value === undefined) continue;
    shared.push(condition);
    params[key] = value;
  }
  if (filter.after !== undefined) {
    shared.push('(updated_at, instance_id) < (@afterUpdatedAt, @afterInstanceId)');
    params.afterUpdatedAt = filter.after.updatedAt;
    params.afterInstanceId = filter.after.instanceId;
  }
  const index = indexFor(filter.saga !== undefined, statuses.length > 0);
  if (statuses.length === 0) return { sql: page(index, shared), params };
  statuses.forEach((status, at) => (params[`status${at}`] = status));
  const pages = statuses.map((_, at) => page(index, [`status = @status${at}`, ...shared]));
  if (pages.length === 1) return { sql: pages[0] ?? '', params };
  const merged = pages.map((sql) => `SELECT * FROM (${sql})`).join(' UNION ALL ');
  return { sql: `${merged} ORDER BY updatedAt DESC, instanceId DESC LIMIT @limit`, params };
}

const page = (index: string, conditions: readonly string[]): string =>
  `SELECT ${columns} FROM instances INDEXED BY ${index}` +
  (conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '') +
  ` ${order} LIMIT @limit`;

function indexFor(bySaga: boolean, byStatus: boolean): string {
  if (bySaga && byStatus) return 'instances_by_saga_status';
  if (bySaga) return 'instances_by_saga';
  if (byStatus) return 'instances_by_status';
  return 'instances_by_update';
}
