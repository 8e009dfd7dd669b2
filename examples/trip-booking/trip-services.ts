import { StepFailure } from '@sagaflow/barrier';
import { instanceNumber, openGuardedServices, type Business, type GuardedServices } from '../shared/guarded-services.js';

/**
 * The business side of the trip saga's services (flights, hotels, cars, billing), each operation a
 * local transaction on the service's own SQLite file, guarded by the idempotency barrier.
 */

/** Failure schedule, by trip number. The sets do not overlap, so every trip's outcome is certain. */
export const tripPlan = {
  /** A quarter of the trips: the hotel is full (non-retryable), so the flight and the car are cancelled. */
  noRooms: (n: number): boolean => n % 4 === 1,
  /** An eighth: the card is declined once all three are booked, so all three are cancelled. */
  cardDeclined: (n: number): boolean => n % 8 === 3,
  /** A quarter: the car rental desk is offline for the first attempt (retryable); the trip completes. */
  carDeskOffline: (n: number): boolean => n % 4 === 2,
};

const booking =
  (kind: string, refuses?: { when: (n: number) => boolean; code: string; message: string }): Business =>
  (db, effect) => {
    if (refuses?.when(instanceNumber(effect.instanceId)) === true) throw new StepFailure(refuses.code, refuses.message);
    const ref = `${kind}-${effect.instanceId}`;
    db.prepare('INSERT INTO bookings (instance_id, kind, ref) VALUES (?, ?, ?)').run(effect.instanceId, kind, ref);
    return { ref };
  };

const cancel =
  (kind: string): Business =>
  (db, effect) => {
    db.prepare('UPDATE bookings SET cancelled = 1 WHERE instance_id = ? AND kind = ?').run(effect.instanceId, kind);
    return null;
  };

const business: Record<string, Business> = {
  bookFlight: booking('flight'),
  cancelFlight: cancel('flight'),
  bookHotel: booking('hotel', { when: tripPlan.noRooms, code: 'NoRooms', message: 'no rooms left on those nights' }),
  cancelHotel: cancel('hotel'),
  bookCar: (db, effect) => {
    if (tripPlan.carDeskOffline(instanceNumber(effect.instanceId)) && effect.attempt === 1) {
      throw new StepFailure('DeskOffline', 'car rental desk offline', { retryable: true });
    }
    return booking('car')(db, effect);
  },
  cancelCar: cancel('car'),
  chargeTrip: (db, effect) => {
    if (tripPlan.cardDeclined(instanceNumber(effect.instanceId))) throw new StepFailure('CardDeclined', 'card declined');
    db.prepare('INSERT INTO charges (instance_id, charge_id) VALUES (?, ?)').run(effect.instanceId, `chg-${effect.instanceId}`);
    return { chargeId: `chg-${effect.instanceId}` };
  },
};

/** The operations each service implements. */
export const tripServiceOperations = {
  flights: ['bookFlight', 'cancelFlight'],
  hotels: ['bookHotel', 'cancelHotel'],
  cars: ['bookCar', 'cancelCar'],
  billing: ['chargeTrip'],
} as const;
export type TripService = keyof typeof tripServiceOperations;
export const tripServices = Object.keys(tripServiceOperations) as TripService[];

const schema = `
  CREATE TABLE IF NOT EXISTS bookings (instance_id TEXT NOT NULL, kind TEXT NOT NULL, ref TEXT NOT NULL, cancelled INTEGER NOT NULL DEFAULT 0);
  CREATE TABLE IF NOT EXISTS charges (instance_id TEXT NOT NULL, charge_id TEXT NOT NULL);
`;

/** Opens (creating if needed) the database of one service. */
export function openTripServices(path: string, service: TripService): GuardedServices {
  return openGuardedServices(path, { schema, business, operations: tripServiceOperations[service] });
}
