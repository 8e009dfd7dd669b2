import type Database from 'better-sqlite3';
import { EventStoreUnavailableError } from '@sagaflow/core';
import { instancesTable, listingIndexes, streamInstancesTable } from './instance-listing.js';

/** Marks a SQLite file as a Sagaflow event store (`PRAGMA application_id`): "SAGF". */
export const sagaflowApplicationId = 0x53414746;

/** Version of the schema this code writes (`PRAGMA user_version`); raised by each migration. */
export const schemaVersion = 2;

/** One step of the schema: turns version `n - 1` into `n`, inside the transaction that stamps `n`. */
type Migration = (db: Database.Database, path: string) => void;

/**
 * Migrations by the version they lead to: `migrations[n - 1]` turns version `n - 1` into `n`.
 * Version 1 is the first schema, created on an empty file; version 2 keys each instance's events by its
 * listing row's integer id instead of its text id ({@link streamKeyedEvents}).
 */
const migrations: readonly Migration[] = [(db) => db.exec(versionOneSchema), streamKeyedEvents];

/**
 * The schema version 1 created: the events keyed by the instance id, and the listing table as the
 * EventStoreDB store's listing read model still has it ({@link instancesTable}).
 */
export const versionOneSchema = `
  CREATE TABLE events (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    type        TEXT    NOT NULL,
    json        TEXT    NOT NULL,
    recorded_at INTEGER NOT NULL,
    UNIQUE (instance_id, revision)
  ) STRICT;

  ${instancesTable}
  `;

/**
 * Version 2: an instance's events are keyed by `(stream, revision)`, where `stream` numbers the instances
 * in order of creation (the listing row's `INTEGER PRIMARY KEY`), instead of by `(instance_id, revision)`.
 * Keyed by the instance id, every append wrote an index page wherever its id sorts: with random ids
 * (UUIDs) a commit of a few dozen appends rewrote about as many index pages spread over the file. The
 * instances in flight have recent stream numbers, so their entries now share the index's last pages.
 * Events keep their positions and instances their order. Every event of a version-1 file has its listing
 * row (both were written in one transaction); a file where one has none is refused, not migrated without it.
 */
function streamKeyedEvents(db: Database.Database, path: string): void {
  const orphans = db.prepare<[], number>('SELECT count(*) FROM events WHERE instance_id NOT IN (SELECT instance_id FROM instances)').pluck().get() ?? 0;
  if (orphans > 0) {
    throw unusable(path, `${orphans} of its events belong to no instance of its listing, so it cannot be moved to schema version 2; restore it from a backup`);
  }
  db.exec(`
  DROP INDEX instances_by_update;
  DROP INDEX instances_by_saga;
  DROP INDEX instances_by_status;
  DROP INDEX instances_by_saga_status;
  ALTER TABLE instances RENAME TO instances_v1;
  ${streamInstancesTable}
  INSERT INTO instances (stream, instance_id, saga, version, status, state, current_step, attempts, revision, started_at, updated_at)
    SELECT rowid, instance_id, saga, version, status, state, current_step, attempts, revision, started_at, updated_at
    FROM instances_v1 ORDER BY rowid;
  ${listingIndexes}

  ALTER TABLE events RENAME TO events_v1;
  CREATE TABLE events (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    stream      INTEGER NOT NULL,
    instance_id TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    type        TEXT    NOT NULL,
    json        TEXT    NOT NULL,
    recorded_at INTEGER NOT NULL,
    UNIQUE (stream, revision)
  ) STRICT;
  INSERT INTO events (position, stream, instance_id, revision, type, json, recorded_at)
    SELECT e.position, i.stream, e.instance_id, e.revision, e.type, e.json, e.recorded_at
    FROM events_v1 AS e JOIN instances AS i ON i.instance_id = e.instance_id
    ORDER BY e.position;
  UPDATE sqlite_sequence SET seq = max(seq, (SELECT seq FROM sqlite_sequence WHERE name = 'events_v1')) WHERE name = 'events';
  DROP TABLE events_v1;
  DROP TABLE instances_v1;
  `);
}

/** A file that SQLite can open but that is not (or not yet understood as) a Sagaflow store. */
const unusable = (path: string, why: string): EventStoreUnavailableError => new EventStoreUnavailableError(path, why);

interface Stamp {
  readonly applicationId: number;
  readonly version: number;
}

const stampOf = (db: Database.Database): Stamp => ({
  applicationId: db.pragma('application_id', { simple: true }) as number,
  version: db.pragma('user_version', { simple: true }) as number,
});

/**
 * Checks that the open file is a Sagaflow store of a schema this code understands, creating the schema
 * on an empty file and migrating an older one (told to `log` as it begins and ends). Runs under a write
 * lock, so two processes opening a new or older file at once create or migrate the schema once.
 * @throws EventStoreUnavailableError naming `path` if the file belongs to something else or has a newer schema.
 */
export function prepareSchema(db: Database.Database, path: string, log: (line: string) => void = () => undefined): void {
  // The stamp and, for an unstamped file, its objects are read in one read transaction (one snapshot):
  // read apart, another process creating the schema between the two reads made its tables look like
  // another application's.
  const current = db.transaction(() => {
    const stamp = stampOf(db);
    if (!isCurrent(stamp)) check(db, path, stamp);
    return stamp;
  })();
  if (isCurrent(current)) return;
  db.transaction(() => {
    const stamp = stampOf(db);
    check(db, path, stamp);
    if (isCurrent(stamp)) return;
    const started = performance.now();
    // An existing store (not one being created) is rewritten, which holds its write lock meanwhile: say so.
    const events = stamp.version === 0 ? 0 : (db.prepare<[], number>('SELECT count(*) FROM events').pluck().get() ?? 0);
    if (stamp.version > 0) {
      log(`moving ${path} from schema version ${stamp.version} to ${schemaVersion} (${events} events; once, writes wait meanwhile)`);
    }
    for (const migration of migrations.slice(stamp.version)) migration(db, path);
    db.pragma(`application_id = ${sagaflowApplicationId}`);
    db.pragma(`user_version = ${schemaVersion}`);
    if (stamp.version > 0) log(`moved ${path} to schema version ${schemaVersion} in ${Math.round(performance.now() - started)} ms`);
  }).immediate();
}

const isCurrent = (stamp: Stamp): boolean => stamp.applicationId === sagaflowApplicationId && stamp.version === schemaVersion;

function check(db: Database.Database, path: string, stamp: Stamp): void {
  if (stamp.applicationId === 0 && stamp.version === 0) {
    const objects = db.prepare<[], number>('SELECT count(*) FROM sqlite_schema').pluck().get() ?? 0;
    if (objects > 0) throw unusable(path, `not a Sagaflow event store: the database holds ${objects} tables or indexes of another application`);
    return;
  }
  if (stamp.applicationId !== sagaflowApplicationId) {
    throw unusable(path, `not a Sagaflow event store: its application id is 0x${stamp.applicationId.toString(16)}, not 0x${sagaflowApplicationId.toString(16)}`);
  }
  if (stamp.version > schemaVersion) {
    throw unusable(path, `its schema version ${stamp.version} is newer than this Sagaflow understands (${schemaVersion}); upgrade Sagaflow to open it`);
  }
}
