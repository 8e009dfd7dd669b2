/**
 * Sagas the core's own tests run: the real order saga from `sagas/`, a parallel group, and a
 * hand-written machine with a branch.
 */
import * as t from 'io-ts';
import type { SagaContext } from '../../src/saga-context.js';
import { saga } from '../../src/saga-definition.js';
import type { OrderInput } from '../../../../sagas/order-fulfilment.saga.js';

export {
  default as orderFulfilment,
  reserveInventory,
  chargePayment,
  createShipment,
} from '../../../../sagas/order-fulfilment.saga.js';

export const orderInput: OrderInput = {
  orderId: 'o-1',
  customerId: 'c-1',
  items: [{ sku: 'sku-1', quantity: 2 }],
  amountCents: 4_200,
  address: '1 Main St',
};

// ---- trip-booking: a parallel group, then a step ----------------------------------------

const TripInput = t.type({ tripId: t.string, amountCents: t.number });
const trip = saga('trip-booking', { version: 1, input: TripInput });

/** A booking step: reply `{ ref }`, compensation `{ tripId, ref | null }`. */
const booking = (name: string, compensation: string) =>
  trip.step({
    name,
    command: t.type({ tripId: t.string }),
    reply: t.type({ ref: t.string }),
    toCommand: ({ input }) => ({ tripId: input.tripId }),
    compensation: {
      name: compensation,
      command: t.type({ tripId: t.string, ref: t.union([t.string, t.null]) }),
      toCommand: ({ input }, reply) => ({ tripId: input.tripId, ref: reply?.ref ?? null }),
      retry: { maxAttempts: 2, initialDelayMs: 50 },
      timeoutMs: 2_000,
    },
    nonRetryable: ['SoldOut'],
    retry: { maxAttempts: 2, initialDelayMs: 50 },
    timeoutMs: 1_000,
  });

export const flight = booking('flight', 'cancelFlight');
export const hotel = booking('hotel', 'cancelHotel');
export const car = booking('car', 'cancelCar');

export const charge = trip.step({
  name: 'charge',
  command: t.type({ tripId: t.string, amountCents: t.number, flight: t.string }),
  reply: t.type({ ref: t.string }),
  toCommand: ({ input, replyOf }) => ({ tripId: input.tripId, amountCents: input.amountCents, flight: replyOf(flight).ref }),
  compensation: {
    name: 'refund',
    command: t.type({ tripId: t.string, ref: t.union([t.string, t.null]) }),
    toCommand: ({ input }, reply) => ({ tripId: input.tripId, ref: reply?.ref ?? null }),
  },
  nonRetryable: ['CardDeclined'],
  retry: { maxAttempts: 3, initialDelayMs: 100 },
  timeoutMs: 1_000,
});

export const tripBooking = trip.define([trip.parallel('book', [flight, hotel, car]), charge]);

export const tripInput: t.TypeOf<typeof TripInput> = { tripId: 't-1', amountCents: 90_000 };

// ---- dispatch: a hand-written machine with a branch on the input ------------------------

const DispatchInput = t.type({ parcelId: t.string, express: t.boolean });
const dispatchSaga = saga('parcel-dispatch', { version: 1, input: DispatchInput });

export const pack = dispatchSaga.step({
  name: 'pack',
  command: t.type({ parcelId: t.string }),
  reply: t.type({ boxId: t.string }),
  toCommand: ({ input }) => ({ parcelId: input.parcelId }),
  compensation: {
    name: 'unpack',
    command: t.type({ parcelId: t.string, boxId: t.union([t.string, t.null]) }),
    toCommand: ({ input }, reply) => ({ parcelId: input.parcelId, boxId: reply?.boxId ?? null }),
  },
});

const carrier = (name: string) =>
  dispatchSaga.step({
    name,
    command: t.type({ parcelId: t.string }),
    reply: t.type({ trackingId: t.string }),
    toCommand: ({ input }) => ({ parcelId: input.parcelId }),
    retry: { maxAttempts: 1 },
  });

export const courier = carrier('courier');
export const post = carrier('post');

export const parcelDispatch = dispatchSaga.defineMachine([pack, courier, post], (kit) =>
  kit.createMachine({
    initial: 'pack',
    states: {
      pack: kit.step('pack', { onSuccess: '#saga.route' }),
      route: {
        always: [
          { guard: ({ context }: { context: SagaContext }) => (context.input as t.TypeOf<typeof DispatchInput>).express, target: 'courier' },
          { target: 'post' },
        ],
      },
      courier: kit.step('courier', { onSuccess: '#saga.completed' }),
      post: kit.step('post', { onSuccess: '#saga.completed' }),
      ...kit.endStates(),
    },
  }),
);
