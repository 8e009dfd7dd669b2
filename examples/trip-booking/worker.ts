/**
 * A worker process for one of the trip saga's services, over NATS JetStream.
 * Usage: worker.ts --service flights|hotels|cars|billing --db PATH [--namespace NS] [--nats URL]
 *        [--ack-wait-ms N] [--heartbeat-ms N] [--latency-ms N]
 * Prints `worker ready` once consuming; stops cleanly on SIGINT/SIGTERM.
 */
import tripBooking, { bookCar, bookFlight, bookHotel, chargeTrip } from '../../sagas/trip-booking.saga.js';
import { runWorkerProcess } from '../shared/worker-process.js';
import { openTripServices, tripServices } from './trip-services.js';

await runWorkerProcess({
  saga: tripBooking,
  services: tripServices,
  open: openTripServices,
  register: (worker, service, guarded) => {
    switch (service) {
      case 'flights':
        worker.step(bookFlight, guarded).compensation(bookFlight, guarded);
        break;
      case 'hotels':
        worker.step(bookHotel, guarded).compensation(bookHotel, guarded);
        break;
      case 'cars':
        worker.step(bookCar, guarded).compensation(bookCar, guarded);
        break;
      case 'billing':
        worker.step(chargeTrip, guarded);
        break;
    }
  },
});
