import { saga, t } from 'sagaflow';

/**
 * Book a flight, a hotel and a car at once, then charge the traveller. If any booking fails, the
 * bookings that were made are cancelled (the others finish their current attempt first); if the
 * charge is declined, all three are.
 */
const TripInput = t.type({
  tripId: t.string,
  travellerId: t.string,
  destination: t.string,
  /** ISO date of the outbound flight and of the hotel's check-in. */
  departOn: t.string,
  nights: t.number,
  amountCents: t.number,
});

const trip = saga('trip-booking', { version: 1, input: TripInput });

/** Cancels a booking; `ref` is null when the booking timed out and its outcome is unknown. */
const Cancellation = t.type({ tripId: t.string, ref: t.union([t.string, t.null]) });
const Booked = t.type({ ref: t.string });
const cancellation = (name: string) => ({
  name,
  command: Cancellation,
  toCommand: ({ input }: { input: TripInput }, reply: { ref: string } | undefined) => ({ tripId: input.tripId, ref: reply?.ref ?? null }),
  retry: { maxAttempts: 5, initialDelayMs: 100 },
  timeoutMs: 5_000,
});

export const bookFlight = trip.step({
  name: 'bookFlight',
  command: t.type({ tripId: t.string, travellerId: t.string, destination: t.string, departOn: t.string }),
  reply: Booked,
  toCommand: ({ input }) => ({ tripId: input.tripId, travellerId: input.travellerId, destination: input.destination, departOn: input.departOn }),
  compensation: cancellation('cancelFlight'),
  nonRetryable: ['NoSeats'],
  retry: { maxAttempts: 3, initialDelayMs: 100 },
  timeoutMs: 5_000,
});

export const bookHotel = trip.step({
  name: 'bookHotel',
  command: t.type({ tripId: t.string, destination: t.string, checkIn: t.string, nights: t.number }),
  reply: Booked,
  toCommand: ({ input }) => ({ tripId: input.tripId, destination: input.destination, checkIn: input.departOn, nights: input.nights }),
  compensation: cancellation('cancelHotel'),
  nonRetryable: ['NoRooms'],
  retry: { maxAttempts: 3, initialDelayMs: 100 },
  timeoutMs: 5_000,
});

export const bookCar = trip.step({
  name: 'bookCar',
  command: t.type({ tripId: t.string, destination: t.string, from: t.string, days: t.number }),
  reply: Booked,
  toCommand: ({ input }) => ({ tripId: input.tripId, destination: input.destination, from: input.departOn, days: input.nights + 1 }),
  compensation: cancellation('cancelCar'),
  nonRetryable: ['NoCars'],
  retry: { maxAttempts: 3, initialDelayMs: 100 },
  timeoutMs: 5_000,
});

/** The last step: nothing after it can fail, so it needs no compensation. */
export const chargeTrip = trip.step({
  name: 'chargeTrip',
  command: t.type({ tripId: t.string, travellerId: t.string, amountCents: t.number, bookings: t.array(t.string) }),
  reply: t.type({ chargeId: t.string }),
  toCommand: ({ input, replyOf }) => ({
    tripId: input.tripId,
    travellerId: input.travellerId,
    amountCents: input.amountCents,
    bookings: [replyOf(bookFlight).ref, replyOf(bookHotel).ref, replyOf(bookCar).ref],
  }),
  nonRetryable: ['CardDeclined'],
  retry: { maxAttempts: 3, initialDelayMs: 100 },
  timeoutMs: 5_000,
});

export type TripInput = t.TypeOf<typeof TripInput>;
export default trip.define([trip.parallel('book', [bookFlight, bookHotel, bookCar]), chargeTrip]);
