import * as t from 'io-ts';
import { saga } from '@sagaflow/core';

/**
 * The standard benchmark saga (the same shape as ../shared/peers: Restate and DBOS run it too):
 * reserveInventory → chargePayment → createShipment; a terminal failure compensates the completed
 * steps in reverse order (refundPayment, releaseInventory). Default retry and timeout settings
 * everywhere, except that createShipment's `ShipmentError` is non-retryable (the W2 workload fails
 * it for every instance, and the peers do not retry it either).
 */
const Order = t.type({ id: t.string, sku: t.string, qty: t.number, amount: t.number, failShipment: t.boolean });
export type Order = t.TypeOf<typeof Order>;

const benchOrder = saga('bench-order', { version: 1, input: Order });

const Reservation = t.type({ reservationId: t.string, sku: t.string, qty: t.number });
const Payment = t.type({ paymentId: t.string, amount: t.number });

export const reserveInventory = benchOrder.step({
  name: 'reserveInventory',
  command: Order,
  reply: Reservation,
  toCommand: ({ input }) => input,
  compensation: {
    name: 'releaseInventory',
    command: t.type({ order: Order, reservation: t.union([Reservation, t.null]) }),
    toCommand: ({ input }, reply) => ({ order: input, reservation: reply ?? null }),
  },
});

export const chargePayment = benchOrder.step({
  name: 'chargePayment',
  command: Order,
  reply: Payment,
  toCommand: ({ input }) => input,
  compensation: {
    name: 'refundPayment',
    command: t.type({ order: Order, payment: t.union([Payment, t.null]) }),
    toCommand: ({ input }, reply) => ({ order: input, payment: reply ?? null }),
  },
});

export const createShipment = benchOrder.step({
  name: 'createShipment',
  command: Order,
  reply: t.type({ shipmentId: t.string, carrier: t.string }),
  toCommand: ({ input }) => input,
  nonRetryable: ['ShipmentError'],
});

export default benchOrder.define([reserveInventory, chargePayment, createShipment]);
