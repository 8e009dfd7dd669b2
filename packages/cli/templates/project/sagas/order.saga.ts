// sagas/order.saga.ts
import { saga, t } from 'sagaflow';

/** Reserve stock, then charge the card; when the card is declined, release the stock. */
const OrderInput = t.type({ orderId: t.string, sku: t.string, quantity: t.number, amountCents: t.number });
export type OrderInput = t.TypeOf<typeof OrderInput>;

const order = saga('order', { version: 1, input: OrderInput });

export const reserveStock = order.step({
  name: 'reserveStock',
  command: t.type({ orderId: t.string, sku: t.string, quantity: t.number }),
  reply: t.type({ reservationId: t.string }),
  toCommand: ({ input }) => ({ orderId: input.orderId, sku: input.sku, quantity: input.quantity }),
  compensation: {
    name: 'releaseStock',
    command: t.type({ orderId: t.string }),
    toCommand: ({ input }) => ({ orderId: input.orderId }),
  },
  retry: { maxAttempts: 3, initialDelayMs: 200 },
  timeoutMs: 5_000,
});

export const chargeCard = order.step({
  name: 'chargeCard',
  command: t.type({ orderId: t.string, amountCents: t.number }),
  reply: t.type({ paymentId: t.string }),
  toCommand: ({ input }) => ({ orderId: input.orderId, amountCents: input.amountCents }),
  // A charge that timed out may have gone through: it is refunded when the saga compensates.
  compensation: {
    name: 'refundCard',
    command: t.type({ orderId: t.string }),
    toCommand: ({ input }) => ({ orderId: input.orderId }),
  },
  nonRetryable: ['CardDeclined'],
  retry: { maxAttempts: 3, initialDelayMs: 200 },
  timeoutMs: 5_000,
});

export default order.define([reserveStock, chargeCard]);
