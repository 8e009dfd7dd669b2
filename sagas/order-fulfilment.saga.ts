import { saga, t } from 'sagaflow';

/** Reserve stock, charge the card, ship; release and refund when a later step fails. */
const OrderInput = t.type({
  orderId: t.string,
  customerId: t.string,
  items: t.array(t.type({ sku: t.string, quantity: t.number })),
  amountCents: t.number,
  address: t.string,
});

const order = saga('order-fulfilment', { version: 1, input: OrderInput });

export const reserveInventory = order.step({
  name: 'reserveInventory',
  command: t.type({ orderId: t.string, items: OrderInput.props.items }),
  reply: t.type({ reservationId: t.string }),
  toCommand: ({ input }) => ({ orderId: input.orderId, items: input.items }),
  compensation: {
    name: 'releaseInventory',
    command: t.type({ orderId: t.string, reservationId: t.union([t.string, t.null]) }),
    toCommand: ({ input }, reply) => ({ orderId: input.orderId, reservationId: reply?.reservationId ?? null }),
  },
  retry: { maxAttempts: 3, initialDelayMs: 100 },
  timeoutMs: 5_000,
});

export const chargePayment = order.step({
  name: 'chargePayment',
  command: t.type({ orderId: t.string, customerId: t.string, amountCents: t.number }),
  reply: t.type({ paymentId: t.string }),
  toCommand: ({ input }) => ({ orderId: input.orderId, customerId: input.customerId, amountCents: input.amountCents }),
  compensation: {
    name: 'refundPayment',
    command: t.type({ orderId: t.string, paymentId: t.union([t.string, t.null]), amountCents: t.number }),
    toCommand: ({ input }, reply) => ({ orderId: input.orderId, paymentId: reply?.paymentId ?? null, amountCents: input.amountCents }),
  },
  nonRetryable: ['PaymentDeclined'],
  retry: { maxAttempts: 3, initialDelayMs: 100 },
  timeoutMs: 5_000,
});

export const createShipment = order.step({
  name: 'createShipment',
  command: t.type({ orderId: t.string, reservationId: t.string, address: t.string }),
  reply: t.type({ trackingNumber: t.string }),
  toCommand: ({ input, replyOf }) => ({ orderId: input.orderId, reservationId: replyOf(reserveInventory).reservationId, address: input.address }),
  retry: { maxAttempts: 4, initialDelayMs: 100 },
  timeoutMs: 5_000,
});

export type OrderInput = t.TypeOf<typeof OrderInput>;
export default order.define([reserveInventory, chargePayment, createShipment]);
