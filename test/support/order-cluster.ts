import { orderExample, orderServices, type OrderService } from '../../examples/order-fulfilment/order-example.js';
import { SagaCluster } from './saga-cluster.js';

/** The order saga's services, each a worker process with its own database. */
export const services = orderServices;
export type Service = OrderService;

/** The order saga deployed for a test: `order-0`, `order-1`, … */
export class OrderCluster extends SagaCluster<Service> {
  constructor(natsUrl: string, workerArgs?: readonly string[]) {
    super(orderExample, natsUrl, workerArgs);
  }

  /** Sends start requests for orders `from` … `to - 1`, `parallel` at a time. */
  startOrders(from: number, to: number, parallel = 50): Promise<void> {
    return this.startInstances(from, to, parallel);
  }
}
