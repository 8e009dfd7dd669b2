import Database from 'better-sqlite3';
import type { DispatchEffect, ReplyOutcome } from '@sagaflow/core';
import type { InProcessHandler } from '@sagaflow/engine';

/**
 * Example workers for the order saga. Each keeps its own SQLite file, like a service with its own
 * database: the business effect (`applied`) and the idempotency barrier row are written in one
 * local transaction, keyed by the effect key. `deliveries` counts every delivery, duplicates included.
 */
export interface OrderWorkers {
  readonly handlers: Readonly<Record<string, InProcessHandler>>;
  close(): void;
}

/** Failure schedule, by order number: declined payments and transiently failing shipments. */
export const orderPlan = {
  paymentDeclined: (n: number): boolean => n % 5 === 0,
  shipmentFailsTwice: (n: number): boolean => n % 10 === 3,
};

const orderNumber = (instanceId: string): number => Number(/(\d+)$/.exec(instanceId)?.[1] ?? -1);

/** Opens (creating if needed) the workers' database. */
export function openOrderWorkers(path: string, options: { readonly maxLatencyMs?: number } = {}): OrderWorkers {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`
    CREATE TABLE IF NOT EXISTS barrier (key TEXT PRIMARY KEY, outcome TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS applied (key TEXT NOT NULL, operation TEXT NOT NULL, instance_id TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS deliveries (effect_id TEXT NOT NULL, key TEXT NOT NULL);
  `);
  const findBarrier = db.prepare<[string], { outcome: string }>('SELECT outcome FROM barrier WHERE key = ?');
  const putBarrier = db.prepare('INSERT INTO barrier (key, outcome) VALUES (?, ?)');
  const putApplied = db.prepare('INSERT INTO applied (key, operation, instance_id) VALUES (?, ?, ?)');
  const putDelivery = db.prepare('INSERT INTO deliveries (effect_id, key) VALUES (?, ?)');
  const maxLatencyMs = options.maxLatencyMs ?? 10;

  class Retryable extends Error {}

  /** The barrier: duplicate → stored outcome; compensation of a step that never ran → null compensation. */
  const guarded = (effect: DispatchEffect, business: () => ReplyOutcome): ReplyOutcome => {
    try {
      return db.transaction((): ReplyOutcome => {
        const stored = findBarrier.get(effect.key);
        if (stored !== undefined) return JSON.parse(stored.outcome) as ReplyOutcome;
        if (effect.kind === 'compensation') {
          const forwardKey = effect.key.replace(/\/compensation$/, '/action');
          const forward = findBarrier.get(forwardKey);
          if (forward === undefined) {
            // Null compensation; the barrier row refuses the forward operation if it arrives late.
            putBarrier.run(forwardKey, JSON.stringify({ ok: false, error: { code: 'Compensated', message: 'compensated before it ran', retryable: false } }));
            const outcome: ReplyOutcome = { ok: true, reply: null };
            putBarrier.run(effect.key, JSON.stringify(outcome));
            return outcome;
          }
          if (!(JSON.parse(forward.outcome) as ReplyOutcome).ok) {
            const outcome: ReplyOutcome = { ok: true, reply: null };
            putBarrier.run(effect.key, JSON.stringify(outcome));
            return outcome;
          }
        }
        const outcome = business();
        if (outcome.ok) putApplied.run(effect.key, effect.operation, effect.instanceId);
        putBarrier.run(effect.key, JSON.stringify(outcome));
        return outcome;
      })();
    } catch (error) {
      if (error instanceof Retryable) return { ok: false, error: { code: 'Unavailable', message: error.message, retryable: true } };
      throw error;
    }
  };

  const handler =
    (business: (effect: DispatchEffect, n: number) => ReplyOutcome): InProcessHandler =>
    async (effect) => {
      putDelivery.run(effect.id, effect.key);
      await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * maxLatencyMs)));
      return guarded(effect, () => business(effect, orderNumber(effect.instanceId)));
    };

  return {
    handlers: {
      reserveInventory: handler((effect) => ({ ok: true, reply: { reservationId: `res-${effect.instanceId}` } })),
      chargePayment: handler((effect, n) =>
        orderPlan.paymentDeclined(n)
          ? { ok: false, error: { code: 'PaymentDeclined', message: 'card declined', retryable: false } }
          : { ok: true, reply: { paymentId: `pay-${effect.instanceId}` } },
      ),
      createShipment: handler((effect, n) => {
        if (orderPlan.shipmentFailsTwice(n) && effect.attempt <= 2) throw new Retryable(`carrier unavailable (attempt ${effect.attempt})`);
        return { ok: true, reply: { trackingNumber: `trk-${effect.instanceId}` } };
      }),
      releaseInventory: handler(() => ({ ok: true, reply: null })),
      refundPayment: handler(() => ({ ok: true, reply: null })),
    },
    close: () => db.close(),
  };
}

/** Reads what the workers applied: business effects per key, and deliveries per key. */
export function readWorkerLedger(path: string): { applied: Map<string, number>; operations: Map<string, string[]>; deliveries: number; duplicates: number } {
  const db = new Database(path, { readonly: true });
  try {
    const applied = new Map<string, number>();
    const operations = new Map<string, string[]>();
    for (const row of db.prepare<[], { key: string; operation: string; instance_id: string }>('SELECT key, operation, instance_id FROM applied').all()) {
      applied.set(row.key, (applied.get(row.key) ?? 0) + 1);
      operations.set(row.instance_id, [...(operations.get(row.instance_id) ?? []), row.operation]);
    }
    const { deliveries, keys } = db.prepare<[], { deliveries: number; keys: number }>('SELECT COUNT(*) AS deliveries, COUNT(DISTINCT effect_id) AS keys FROM deliveries').get() ?? { deliveries: 0, keys: 0 };
    return { applied, operations, deliveries, duplicates: deliveries - keys };
  } finally {
    db.close();
  }
}
