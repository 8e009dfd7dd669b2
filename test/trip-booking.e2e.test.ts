import { afterEach, describe, expect, inject, it } from 'vitest';
import { createRegistry, type SagaEvent } from '@sagaflow/core';
import tripBooking from '../sagas/trip-booking.saga.js';
import { tripExample } from '../examples/trip-booking/trip-example.js';
import { tripPlan, type TripService } from '../examples/trip-booking/trip-services.js';
import { SagaCluster } from './support/saga-cluster.js';
import { expectSettledOnce } from './support/saga-invariants.js';

let cluster: SagaCluster<TripService> | null = null;
afterEach(async () => {
  await cluster?.stop();
  cluster = null;
});

const count = 40;

/** The steps an instance recorded as compensated. */
const compensationsOf = (events: readonly SagaEvent[]): string[] => events.flatMap((event) => (event.type === 'CompensationSucceeded' ? [event.step] : []));

describe('trip-booking over NATS JetStream: a parallel group, engine and four worker processes', () => {
  it(`${count} trips: a full hotel cancels the flight and the car (not the hotel), a declined card cancels all three, the rest complete; each effect once`, async () => {
    cluster = new SagaCluster(tripExample, inject('natsUrl'));
    await cluster.startAll();
    await cluster.startInstances(0, count);
    const counts = await cluster.settled(count);
    const noRooms = Array.from({ length: count }, (_, n) => n).filter(tripPlan.noRooms).length;
    const declined = Array.from({ length: count }, (_, n) => n).filter(tripPlan.cardDeclined).length;
    expect(Object.fromEntries(counts)).toEqual({ completed: count - noRooms - declined, compensated: noRooms + declined });

    await expectSettledOnce(tripExample, createRegistry([tripBooking]), cluster.eventStore(), cluster.databases(), count, (n, events) => {
      const compensated = compensationsOf(events).sort().join(',');
      const wanted = tripPlan.noRooms(n) ? 'bookCar,bookFlight' : tripPlan.cardDeclined(n) ? 'bookCar,bookFlight,bookHotel' : '';
      if (compensated !== wanted) return `compensated [${compensated}] instead of [${wanted}]`;
      const hotelRefused = events.some((event) => event.type === 'StepFailed' && event.step === 'bookHotel' && event.error.code === 'NoRooms');
      return hotelRefused === tripPlan.noRooms(n) ? null : `hotel refusal ${hotelRefused ? 'unexpected' : 'missing'}`;
    });
  });
});
