import Database from 'better-sqlite3';
import { createSqliteBarrier, StepFailure, type Outcome } from '@sagaflow/barrier';
import type { DispatchEffect } from '@sagaflow/core';

/**
 * The business side of the order saga's services (inventory, payment, shipping), each operation a
 * local transaction on the service's own SQLite file, guarded by the idempotency barrier. The
 * `applied` table records every business change, so tests can check each happened once.
 */
export interface OrderServices {
  /** Runs an operation for an effect behind the barrier. */
  run(effect: DispatchEffect): Outcome;
  readonly operations: readonly string[];
  close(): void;
}

/** Failure schedule, by order number: declined payments (20%) and a flaky carrier (10%, twice). */
export const orderPlan = {
  paymentDeclined: (n: number): boolean => n % 5 === 0,
  shipmentFailsTwice: (n: number): boolean => n % 10 === 3,
};

/** The number at the end of an instance id (`order-42` → 42), -1 if none. */
export const orderNumber = (instanceId: string): number => Number(/(\d+)$/.exec(instanceId)?.[1] ?? -1);

type Business = (db: Database.Database, effect: DispatchEffect) => unknown;

const business: Record<string, Business> = {
  reserveInventory: (db, effect) => {
    db.prepare('INSERT INTO reservations (instance_id, reservation_id) VALUES (?, ?)').run(effect.instanceId, `res-${effect.instanceId}`);
    return { reservationId: `res-${effect.instanceId}` };
  },
  releaseInventory: (db, effect) => {
    db.prepare('UPDATE reservations SET released = 1 WHERE instance_id = ?').run(effect.instanceId);
    return null;
  },
  chargePayment: (db, effect) => {
    if (orderPlan.paymentDeclined(orderNumber(effect.instanceId))) throw new StepFailure('PaymentDeclined', 'card declined');
    db.prepare('INSERT INTO payments (instance_id, payment_id) VALUES (?, ?)').run(effect.instanceId, `pay-${effect.instanceId}`);
    return { paymentId: `pay-${effect.instanceId}` };
  },
  refundPayment: (db, effect) => {
    db.prepare('UPDATE payments SET refunded = 1 WHERE instance_id = ?').run(effect.instanceId);
    return null;
  },
  createShipment: (_db, effect) => {
    if (orderPlan.shipmentFailsTwice(orderNumber(effect.instanceId)) && effect.attempt <= 2) {
      throw new StepFailure('CarrierUnavailable', `carrier unavailable (attempt ${effect.attempt})`, { retryable: true });
    }
    return { trackingNumber: `trk-${effect.instanceId}` };
  },
};

/** The operations each service implements. */
export const serviceOperations = {
  inventory: ['reserveInventory', 'releaseInventory'],
  payment: ['chargePayment', 'refundPayment'],
  shipping: ['createShipment'],
  all: ['reserveInventory', 'releaseInventory', 'chargePayment', 'refundPayment', 'createShipment'],
} as const;

/** Opens (creating if needed) a service database implementing `operations`. */
export function openOrderServices(path: string, operations: readonly string[] = serviceOperations.all): OrderServices {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.exec(`
    CREATE TABLE IF NOT EXISTS reservations (instance_id TEXT NOT NULL, reservation_id TEXT NOT NULL, released INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE IF NOT EXISTS payments (instance_id TEXT NOT NULL, payment_id TEXT NOT NULL, refunded INTEGER NOT NULL DEFAULT 0);
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

/** What the services applied: business changes per key and per instance, and deliveries seen. */
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
