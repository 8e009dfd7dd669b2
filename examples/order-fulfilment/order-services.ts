import { StepFailure } from '@sagaflow/barrier';
import { instanceNumber, openGuardedServices, type Business, type GuardedServices } from '../shared/guarded-services.js';

export { readLedger } from '../shared/guarded-services.js';

/**
 * The business side of the order saga's services (inventory, payment, shipping), each operation a
 * local transaction on the service's own SQLite file, guarded by the idempotency barrier. The
 * `applied` table records every business change, so tests can check each happened once.
 */
export type OrderServices = GuardedServices;

/** Failure schedule, by order number: declined payments (20%) and a flaky carrier (10%, twice). */
export const orderPlan = {
  paymentDeclined: (n: number): boolean => n % 5 === 0,
  shipmentFailsTwice: (n: number): boolean => n % 10 === 3,
};

/** The number at the end of an instance id (`order-42` → 42), -1 if none. */
export const orderNumber = instanceNumber;

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

const schema = `
  CREATE TABLE IF NOT EXISTS reservations (instance_id TEXT NOT NULL, reservation_id TEXT NOT NULL, released INTEGER NOT NULL DEFAULT 0);
  CREATE TABLE IF NOT EXISTS payments (instance_id TEXT NOT NULL, payment_id TEXT NOT NULL, refunded INTEGER NOT NULL DEFAULT 0);
`;

/** Opens (creating if needed) a service database implementing `operations`. */
export function openOrderServices(path: string, operations: readonly string[] = serviceOperations.all): OrderServices {
  return openGuardedServices(path, { schema, business, operations });
}
