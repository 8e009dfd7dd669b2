import Database from 'better-sqlite3';
import { createSqliteBarrier, type Outcome } from '@sagaflow/barrier';
import type { DispatchEffect } from '@sagaflow/core';

/**
 * The example services' databases: one SQLite file per service, every operation a local
 * transaction guarded by the idempotency barrier. An `applied` table records every business
 * change and a `deliveries` table every command seen, so tests (and the demo) can check that each
 * change happened once however often its command was delivered.
 */
export interface GuardedServices {
  /** Runs an operation for an effect behind the barrier. */
  run(effect: DispatchEffect): Outcome;
  readonly operations: readonly string[];
  close(): void;
}

/** An operation's business code: synchronous, writes through `db` (inside the barrier's transaction), returns the reply. */
export type Business = (db: Database.Database, effect: DispatchEffect) => unknown;

/** The number at the end of an instance id (`order-42` → 42), -1 if none: the examples' failure schedules key on it. */
export const instanceNumber = (instanceId: string): number => Number(/(\d+)$/.exec(instanceId)?.[1] ?? -1);

/** Opens (creating if needed) a service database with `schema`, implementing `operations` of `business`. */
export function openGuardedServices(path: string, options: { readonly schema: string; readonly business: Readonly<Record<string, Business>>; readonly operations: readonly string[] }): GuardedServices {
  const { business, operations } = options;
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.exec(`
    ${options.schema}
    CREATE TABLE IF NOT EXISTS applied (key TEXT NOT NULL, operation TEXT NOT NULL, instance_id TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS deliveries (effect_id TEXT NOT NULL, key TEXT NOT NULL);
  `);
  const barrier = createSqliteBarrier(db);
  const putApplied = db.prepare('INSERT INTO applied (key, operation, instance_id) VALUES (?, ?, ?)');
  const putDelivery = db.prepare('INSERT INTO deliveries (effect_id, key) VALUES (?, ?)');
  return {
    operations,
    run(effect) {
      const operation = business[effect.operation];
      if (operation === undefined || !operations.includes(effect.operation)) throw new Error(`This service does not implement "${effect.operation}"`);
      putDelivery.run(effect.id, effect.key);
      return barrier.run(effect, (tx) => {
        const reply = operation(tx, effect);
        putApplied.run(effect.key, effect.operation, effect.instanceId);
        return reply;
      });
    },
    close: () => db.close(),
  };
}

/** What the services applied: business changes per key and per instance, and deliveries seen (duplicates: deliveries of an effect id seen before). */
export function readLedger(paths: readonly string[]): { applied: Map<string, number>; operations: Map<string, string[]>; deliveries: number; duplicates: number } {
  const applied = new Map<string, number>();
  const operations = new Map<string, string[]>();
  let deliveries = 0;
  let duplicates = 0;
  for (const path of paths) {
    const db = new Database(path, { readonly: true });
    try {
      for (const row of db.prepare<[], { key: string; operation: string; instance_id: string }>('SELECT key, operation, instance_id FROM applied').all()) {
        applied.set(row.key, (applied.get(row.key) ?? 0) + 1);
        operations.set(row.instance_id, [...(operations.get(row.instance_id) ?? []), row.operation]);
      }
      const counts = db.prepare<[], { total: number; distinct: number }>('SELECT COUNT(*) AS total, COUNT(DISTINCT effect_id) AS "distinct" FROM deliveries').get();
      deliveries += counts?.total ?? 0;
      duplicates += (counts?.total ?? 0) - (counts?.distinct ?? 0);
    } finally {
      db.close();
    }
  }
  return { applied, operations, deliveries, duplicates };
}
