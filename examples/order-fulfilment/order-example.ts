import type { ExampleSaga } from '../demo/deployment.js';
import { orderInput } from './order-input.js';
import { orderPlan } from './order-services.js';

/** The order services, each a worker process (worker.ts). */
export const orderServices = ['inventory', 'payment', 'shipping'] as const;
export type OrderService = (typeof orderServices)[number];

/** The order saga as the demo and the end-to-end tests deploy it: `order-<n>`, ending as `orderPlan` schedules. */
export const orderExample: ExampleSaga<OrderService> = {
  saga: 'order-fulfilment',
  workerScript: 'examples/order-fulfilment/worker.ts',
  services: orderServices,
  instanceId: (n) => `order-${n}`,
  input: orderInput,
  expected: (n) =>
    orderPlan.paymentDeclined(n)
      ? { status: 'compensated', operations: ['reserveInventory', 'releaseInventory'] }
      : { status: 'completed', operations: ['reserveInventory', 'chargePayment', 'createShipment'] },
};
