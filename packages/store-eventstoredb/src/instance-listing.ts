import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { EventStoreUnavailableError, isSagaStatus, type InstanceFilter, type InstanceSummary } from '@sagaflow/core';
import { instancesTable, listingQuery, sagaflowApplicationId as sqliteStoreApplicationId, switchToWal } from '@sagaflow/store-sqlite';

/** Marks a SQLite file as the instance listing of an EventStoreDB-backed store (`PRAGMA application_id`): "SAGL". */
export const listingApplicationId = 0x5341474c;
/** Version of the listing schema this code writes (`PRAGMA user_version`). */
export const listingSchemaVersion = 1;

const schema = `
  ${instancesTable}

  -- Where the projection of $all stands: every event of the category up to this $all position is applied.
  CREATE TABLE projection (
    id               INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    category         TEXT    NOT NULL,
    commit_position  TEXT,
    prepare_position TEXT
  ) STRICT;
`;

const columns =
  'instance_id AS instanceId, saga, version, status, state, current_step AS currentStep, attempts, revision, ' +
  'started_at AS startedAt, updated_at AS updatedAt';

/** An `$all` position, as EventStoreDB gives it. */
export interface LogPosition {
  readonly commit: bigint;
  readonly prepare: bigint;
}

/** What the projection read at a position of `$all`: an event, with the listing row it carries if any, or a filter checkpoint. */
export interface ProjectedPosition {
  readonly position: LogPosition;
  readonly summary?: InstanceSummary | undefined;
}

/**
 * The instance listing, kept as a read model in a local SQLite file: one row per instance, the row of its
 * latest append (by revision), and the `$all` position the projection has applied up to. Rows only move
 * forward (an older revision never replaces a newer one), so the same summary may be applied twice, from
 * the append that wrote it and from the subscription that reads it back, in any order.
 */
export class InstanceListing {
  private readonly upsert: Database.Statement<[InstanceSummary]>;
  private readonly selectOne: Database.Statement<[string], InstanceSummary>;
  private readonly selectCheckpoint: Database.Statement<[], { commit: string | null; prepare: string | null }>;
  private readonly updateCheckpoint: Database.Statement<[string, string]>;
  private readonly pages = new Map<string, Database.Statement<[Record<string, string | number>], InstanceSummary>>();

  private constructor(
    private readonly db: Database.Database,
    readonly path: string,
  ) {
    this.upsert = db.prepare(
      `INSERT INTO instances (instance_id, saga, version, status, state, current_step, attempts, revision, started_at, updated_at)
       VALUES (@instanceId, @saga, @version, @status, @state, @currentStep, @attempts, @revision, @startedAt, @updatedAt)
       ON CONFLICT (instance_id) DO UPDATE SET
         saga = excluded.saga, version = excluded.version, status = excluded.status, state = excluded.state,
         current_step = excluded.current_step, attempts = excluded.attempts, revision = excluded.revision,
         started_at = excluded.started_at, updated_at = excluded.updated_at
       WHERE excluded.revision > instances.revision`,
    );
    this.selectOne = db.prepare(`SELECT ${columns} FROM instances WHERE instance_id = ?`);
    this.selectCheckpoint = db.prepare('SELECT commit_position AS "commit", prepare_position AS prepare FROM projection WHERE id = 1');
    this.updateCheckpoint = db.prepare('UPDATE projection SET commit_position = ?, prepare_position = ? WHERE id = 1');
  }

  /**
   * Opens (creating if missing, with its directory) the listing file at `path` (`:memory:` for one kept in
   * memory, rebuilt at every open). A listing kept for another stream category is emptied, to be rebuilt.
   * @throws EventStoreUnavailableError naming `path` if it cannot be opened or belongs to something else.
   */
  static open(path: string, category: string, busyTimeoutMs: number): InstanceListing {
    let db: Database.Database | undefined;
    try {
      if (path !== ':memory:' && path !== '') mkdirSync(dirname(path), { recursive: true });
      db = new Database(path, { timeout: busyTimeoutMs });
      switchToWal(db, busyTimeoutMs);
      db.pragma('synchronous = NORMAL');
      prepare(db, path, category);
      return new InstanceListing(db, path);
    } catch (error) {
      db?.close();
      if (error instanceof EventStoreUnavailableError) throw error;
      const unavailable = new EventStoreUnavailableError(path, `cannot open the instance listing: ${error instanceof Error ? error.message : String(error)}`);
      unavailable.cause = error;
      throw unavailable;
    }
  }

  /** Applies the rows of appends, in one transaction, except where the listing already has that or a later revision. */
  apply(summaries: readonly InstanceSummary[]): void {
    if (summaries.length === 0) return;
    this.immediately(() => {
      for (const summary of summaries) this.upsert.run(rowOf(summary));
    });
  }

  /**
   * Applies what the projection read, in order and in one transaction: the rows some events carry, and the
   * progress to the position of the last (an event without a row, or a filter checkpoint, is progress only).
   */
  applyAt(read: readonly ProjectedPosition[]): void {
    if (read.length === 0) return;
    this.immediately(() => {
      let furthest: LogPosition | undefined;
      for (const { position, summary } of read) {
        if (summary !== undefined) this.upsert.run(rowOf(summary));
        if (furthest === undefined || isAfter(position, furthest)) furthest = position;
      }
      if (furthest !== undefined) this.advance(furthest);
    });
  }

  /**
   * Runs `work` in one IMMEDIATE transaction: it takes the write lock first (waiting for other processes
   * sharing the file), rather than read and then fail to upgrade to writing if another process wrote meanwhile.
   */
  private immediately(work: () => void): void {
    this.db.transaction(work).immediate();
  }

  /** Records that the projection has seen everything up to `position` (never moves back). */
  advance(position: LogPosition): void {
    const current = this.checkpoint();
    if (current !== null && !isAfter(position, current)) return;
    this.updateCheckpoint.run(position.commit.toString(), position.prepare.toString());
  }

  /** The position the projection has applied up to, or null to start from the beginning of `$all`. */
  checkpoint(): LogPosition | null {
    const row = this.selectCheckpoint.get();
    if (row?.commit == null || row.prepare == null) return null;
    return { commit: BigInt(row.commit), prepare: BigInt(row.prepare) };
  }

  /** Forgets every row and the checkpoint, so the projection rebuilds the listing from the start of `$all`. */
  reset(): void {
    this.db.transaction(() => {
      this.db.exec('DELETE FROM instances');
      this.db.exec('UPDATE projection SET commit_position = NULL, prepare_position = NULL WHERE id = 1');
    })();
  }

  get(instanceId: string): InstanceSummary | undefined {
    return this.selectOne.get(instanceId);
  }

  /** Rows matching `filter`, newest change first, instance id (descending, binary order) breaking ties; the SQLite store's indexed query. */
  list(filter: InstanceFilter, limit: number): InstanceSummary[] {
    const { sql, params } = listingQuery(filter, limit);
    let statement = this.pages.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.pages.set(sql, statement);
    }
    return statement.all(params);
  }

  get open(): boolean {
    return this.db.open;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** Whether `position` comes strictly after `other` in `$all`. */
const isAfter = (position: LogPosition, other: LogPosition): boolean =>
  position.commit > other.commit || (position.commit === other.commit && position.prepare > other.prepare);

/** The columns of a summary, by name, and nothing else (better-sqlite3 refuses unknown named parameters). */
const rowOf = (summary: InstanceSummary): InstanceSummary => ({
  instanceId: summary.instanceId,
  saga: summary.saga,
  version: summary.version,
  status: summary.status,
  state: summary.state,
  currentStep: summary.currentStep,
  attempts: summary.attempts,
  revision: summary.revision,
  startedAt: summary.startedAt,
  updatedAt: summary.updatedAt,
});

/**
 * Checks the file's stamp, creating the schema on an empty file, all under the write lock: a listing that
 * another process creates at the same moment is then seen whole (or not at all), never as tables of an
 * unknown application.
 */
function prepare(db: Database.Database, path: string, category: string): void {
  db.transaction(() => {
    const applicationId = db.pragma('application_id', { simple: true }) as number;
    const version = db.pragma('user_version', { simple: true }) as number;
    if (applicationId === 0 && version === 0) {
      const objects = db.prepare<[], number>('SELECT count(*) FROM sqlite_schema').pluck().get() ?? 0;
      if (objects > 0) throw new EventStoreUnavailableError(path, `not a Sagaflow instance listing: the file holds ${objects} tables or indexes of another application`);
      db.exec(schema);
      db.prepare('INSERT INTO projection (id, category) VALUES (1, ?)').run(category);
      db.pragma(`application_id = ${listingApplicationId}`);
      db.pragma(`user_version = ${listingSchemaVersion}`);
      return;
    }
    if (applicationId === sqliteStoreApplicationId) {
      throw new EventStoreUnavailableError(path, 'this is a Sagaflow SQLite event store, not the instance listing of an EventStoreDB store: give the listing a file of its own');
    }
    if (applicationId !== listingApplicationId) {
      throw new EventStoreUnavailableError(path, `not a Sagaflow instance listing: its application id is 0x${applicationId.toString(16)}`);
    }
    if (version > listingSchemaVersion) {
      throw new EventStoreUnavailableError(path, `its listing schema version ${version} is newer than this Sagaflow understands (${listingSchemaVersion})`);
    }
    const kept = db.prepare<[], string>('SELECT category FROM projection WHERE id = 1').pluck().get();
    if (kept !== category) {
      db.exec('DELETE FROM instances');
      db.prepare('UPDATE projection SET category = ?, commit_position = NULL, prepare_position = NULL WHERE id = 1').run(category);
    }
  }).immediate();
}

/** A listing row carried in event metadata, if it has the shape of one. */
export function summaryFrom(value: unknown): InstanceSummary | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const row = value as Record<string, unknown>;
  const text = (key: string): boolean => typeof row[key] === 'string';
  const integer = (key: string): boolean => Number.isSafeInteger(row[key]);
  const ok =
    text('instanceId') &&
    text('saga') &&
    text('state') &&
    typeof row.status === 'string' &&
    isSagaStatus(row.status) &&
    (row.currentStep === null || text('currentStep')) &&
    ['version', 'attempts', 'revision', 'startedAt', 'updatedAt'].every(integer);
  return ok ? rowOf(row as unknown as InstanceSummary) : undefined;
}
