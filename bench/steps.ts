/**
 * The step bodies and the order payload of the standard workload, as in ../shared/peers/common/steps.mjs
 * (trivial in-memory work returning a small object; createShipment fails when `failShipment` is set).
 */
import { randomUUID } from 'node:crypto';

export interface Order {
  readonly id: string;
  readonly sku: string;
  readonly qty: number;
  readonly amount: number;
  readonly failShipment: boolean;
}

export class ShipmentError extends Error {
  constructor(orderId: string) {
    super(`shipment rejected for ${orderId}`);
    this.name = 'ShipmentError';
  }
}

export const reserveInventory = (order: Order) => ({ reservationId: `res-${order.id}`, sku: order.sku, qty: order.qty });
export const chargePayment = (order: Order) => ({ paymentId: `pay-${order.id}`, amount: order.amount });
export function createShipment(order: Order): { shipmentId: string; carrier: string } {
  if (order.failShipment) throw new ShipmentError(order.id);
  return { shipmentId: `shp-${order.id}`, carrier: 'local' };
}
export const releaseInventory = (_order: Order, reservation: { reservationId: string }) => ({ released: reservation.reservationId });
export const refundPayment = (_order: Order, payment: { paymentId: string; amount: number }) => ({ refunded: payment.paymentId, amount: payment.amount });

/**
 * How the bench names saga instances (`--ids`): `sequential` ids, numbered as the sagas start (the peers'
 * harness names them so), or random `uuid`s, as applications commonly name them.
 */
export const instanceIdForms = ['sequential', 'uuid'] as const;
/** One of {@link instanceIdForms}. */
export type InstanceIds = (typeof instanceIdForms)[number];

/** The order payload of saga `i` of a run; its id, which names the saga instance, as `ids` says. */
export const makeOrder = (runTag: string, i: number, failShipment: boolean, ids: InstanceIds = 'sequential'): Order => ({
  id: ids === 'uuid' ? randomUUID() : `${runTag}-${i}`,
  sku: `sku-${i % 50}`,
  qty: 1 + (i % 3),
  amount: 1000 + i,
  failShipment,
});
