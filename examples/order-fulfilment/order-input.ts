import type { OrderInput } from '../../sagas/order-fulfilment.saga.js';

/** A valid order-fulfilment input for order number `n`. */
export const orderInput = (n: number): OrderInput => ({
  orderId: `order-${n}`,
  customerId: `customer-${n % 17}`,
  items: [{ sku: `sku-${n % 7}`, quantity: 1 + (n % 3) }],
  amountCents: 1000 + n,
  address: `${n} Main Street`,
});
