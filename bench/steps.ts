/**
 * The step bodies and the order payload of the standard workload, as in ../shared/peers/common/steps.mjs
 * (trivial in-memory work returning a small object; createShipment fails when `failShipment` is set).
 */
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

/** The order payload of saga `i` of a run. */
export const makeOrder = (runTag: string, i: number, failShipment: boolean): Order => ({
  id: `${runTag}-${i}`,
  sku: `sku-${i % 50}`,
  qty: 1 + (i % 3),
  amount: 1000 + i,
  failShipment,
});
