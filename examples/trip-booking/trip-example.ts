import type { TripInput } from '../../sagas/trip-booking.saga.js';
import type { ExampleSaga } from '../demo/deployment.js';
import { tripPlan, tripServices, type TripService } from './trip-services.js';

/** A valid trip-booking input for trip number `n`. */
export const tripInput = (n: number): TripInput => ({
  tripId: `trip-${n}`,
  travellerId: `traveller-${n % 13}`,
  destination: ['Lisbon', 'Oslo', 'Kyoto', 'Lima'][n % 4] ?? 'Lisbon',
  departOn: `2030-0${1 + (n % 9)}-1${n % 10}`,
  nights: 1 + (n % 6),
  amountCents: 50_000 + 100 * n,
});

const bookings = ['bookFlight', 'bookHotel', 'bookCar'];

/** The trip saga as the end-to-end test deploys it: `trip-<n>`, ending as `tripPlan` schedules. */
export const tripExample: ExampleSaga<TripService> = {
  saga: 'trip-booking',
  workerScript: 'examples/trip-booking/worker.ts',
  services: tripServices,
  instanceId: (n) => `trip-${n}`,
  input: tripInput,
  expected: (n) => {
    if (tripPlan.noRooms(n)) return { status: 'compensated', operations: ['bookFlight', 'bookCar', 'cancelFlight', 'cancelCar'] };
    if (tripPlan.cardDeclined(n)) return { status: 'compensated', operations: [...bookings, 'cancelFlight', 'cancelHotel', 'cancelCar'] };
    return { status: 'completed', operations: [...bookings, 'chargeTrip'] };
  },
};
