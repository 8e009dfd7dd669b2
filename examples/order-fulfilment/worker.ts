/**
 * A worker process for one of the order saga's services, over NATS JetStream.
 * Usage: worker.ts --service inventory|payment|shipping --db PATH [--namespace NS] [--nats URL]
 *        [--ack-wait-ms N] [--heartbeat-ms N] [--latency-ms N]   (redelivery, heartbeat and a slow service, for tests)
 * Prints `worker ready` once consuming; stops cleanly on SIGINT/SIGTERM.
 */
import orderFulfilment, { chargePayment, createShipment, reserveInventory } from '../../sagas/order-fulfilment.saga.js';
import { runWorkerProcess } from '../shared/worker-process.js';
import { openOrderServices, serviceOperations } from './order-services.js';

await runWorkerProcess({
  saga: orderFulfilment,
  services: ['inventory', 'payment', 'shipping'],
  open: (db, service) => openOrderServices(db, serviceOperations[service]),
  register: (worker, service, guarded) => {
    switch (service) {
      case 'inventory':
        worker.step(reserveInventory, guarded);
        worker.compensation(reserveInventory, guarded);
        break;
      case 'payment':
        worker.step(chargePayment, guarded);
        worker.compensation(chargePayment, guarded);
        break;
      case 'shipping':
        worker.step(createShipment, guarded);
        break;
    }
  },
});
