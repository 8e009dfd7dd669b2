/** A store of schema version 1 (events keyed by the instance id), the fixture of the migration tests. */
import Database from 'better-sqlite3';
import { sagaflowApplicationId } from '@sagaflow/store-sqlite';
import { versionOneSchema } from '../../../packages/store-sqlite/src/schema.js';
import { started, t0 } from '../event-store.contract.js';

/**
 * Writes a version-1 store at `path` as the earlier code wrote it: its schema, stamp, and `instances` with
 * their events (and, with `orphan`, one event of an instance without a listing row, which that code never wrote).
 */
export function versionOneStore(path: string, instances: readonly { id: string; events: number }[], orphan?: string): void {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.exec(versionOneSchema);
    db.pragma(`application_id = ${sagaflowApplicationId}`);
    db.pragma('user_version = 1');
    const event = db.prepare('INSERT INTO events (instance_id, revision, type, json, recorded_at) VALUES (?, ?, ?, ?, ?)');
    const row = db.prepare(
      `INSERT INTO instances (instance_id, saga, version, status, state, current_step, attempts, revision, started_at, updated_at)
       VALUES (?, 'order-fulfilment', 1, 'running', '"reserve"', 'reserve', 1, ?, ?, ?)`,
    );
    // Interleaved as an engine writes them: the log's positions do not follow the instances.
    const most = Math.max(...instances.map((instance) => instance.events));
    for (let revision = 0; revision < most; revision++) {
      for (const { id, events } of instances) {
        if (revision >= events) continue;
        event.run(id, revision, revision === 0 ? 'SagaStarted' : 'StepDispatched', started(id).json, t0 + revision);
      }
    }
    for (const { id, events } of instances) row.run(id, events - 1, t0, t0 + events);
    if (orphan !== undefined) event.run(orphan, 0, 'SagaStarted', started(orphan).json, t0);
  } finally {
    db.close();
  }
}
