import type Database from 'better-sqlite3';
import { EventStoreUnavailableError } from '@sagaflow/core';
import { instancesTable } from './instance-listing.js';

/** Marks a SQLite file as a Sagaflow event store (`PRAGMA application_id`): "SAGF". */
export const sagaflowApplicationId = 0x53414746;

/** Version of the schema this code writes (`PRAGMA user_version`); raised by each migration. */
export const schemaVersion = 1;

/**
 * Migrations by the version they lead to: `migrations[n - 1]` turns version `n - 1` into `n`.
 * Version 1 is the first schema, created on an empty file.
 */
const migrations: readonly string[] = [
  `
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
  `,
];

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
 * on an empty file and migrating an older one. Runs under a write lock, so two processes opening a new
 * file at once create the schema once.
 * @throws EventStoreUnavailableError naming `path` if the file belongs to something else or has a newer schema.
 */
export function prepareSchema(db: Database.Database, path: string): void {
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
    for (const migration of migrations.slice(stamp.version)) db.exec(migration);
    db.pragma(`application_id = ${sagaflowApplicationId}`);
    db.pragma(`user_version = ${schemaVersion}`);
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
