/** Registering handlers: checked against the saga, and typed by the step codecs. No server needed. */
import type { NatsConnection } from '@nats-io/transport-node';
import * as t from 'io-ts';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { saga } from '@sagaflow/core';
import { createWorker, type Worker } from '@sagaflow/worker';
import orderFulfilment, { chargePayment, createShipment, reserveInventory, type OrderInput } from '../../../sagas/order-fulfilment.saga.js';

const connection = {} as NatsConnection; // never touched before start()
const newWorker = (): Worker<OrderInput> => createWorker({ connection, saga: orderFulfilment, log: () => undefined });

describe('registration', () => {
  it('accepts each operation once and chains, also through detached methods', () => {
    const { step } = newWorker();
    expect(() => step(reserveInventory, () => ({ reservationId: 'r' })).compensation(reserveInventory, () => undefined)).not.toThrow();
  });

  it('refuses a step that is not in the saga', () => {
    const other = saga('other', { version: 1, input: t.unknown });
    const audit = other.step({ name: 'audit', command: t.unknown, reply: t.unknown, toCommand: () => null });
    expect(() => newWorker().step(audit as never, () => null)).toThrow('"audit" is not a step of saga "order-fulfilment" (its steps: reserveInventory, chargePayment, createShipment)');
  });

  it('refuses a look-alike of a saga step declared elsewhere', () => {
    const twin = saga('order-fulfilment', { version: 1, input: t.unknown }).step({ ...reserveInventory, toCommand: () => ({ orderId: '', items: [] }) });
    expect(() => newWorker().step(twin as never, () => ({ reservationId: 'r' }))).toThrow(
      'Step "reserveInventory" is not the one saga "order-fulfilment" was defined with: register the step object the saga file exports',
    );
  });

  it('refuses a compensation handler for a step without compensation', () => {
    expect(() => newWorker().compensation(createShipment, () => undefined)).toThrow(
      'Step "createShipment" of saga "order-fulfilment" has no compensation: there is nothing to register a compensation handler for',
    );
  });

  it('refuses the same operation twice', () => {
    const worker = newWorker().step(chargePayment, () => ({ paymentId: 'p' }));
    expect(() => worker.step(chargePayment, () => ({ paymentId: 'p' }))).toThrow(
      'Operation "chargePayment" of saga "order-fulfilment" is already handled by this worker (step "chargePayment"); cannot register step "chargePayment"',
    );
    worker.compensation(chargePayment, () => undefined);
    expect(() => worker.compensation(chargePayment, () => undefined)).toThrow(/Operation "refundPayment" .* already handled .*the compensation of step "chargePayment"/);
  });

  it('refuses to start without handlers, and bad options at once', async () => {
    await expect(newWorker().start()).rejects.toThrow('The worker of saga "order-fulfilment" has no handlers: register steps or compensations before start()');
    expect(() => createWorker({ connection, saga: orderFulfilment, concurrency: 0 })).toThrow('Invalid concurrency 0');
    expect(() => createWorker({ connection, saga: orderFulfilment, prefetch: -1 })).toThrow('Invalid prefetch -1: an integer >= 0 is required');
    expect(() => createWorker({ connection, saga: orderFulfilment, prefetch: 1.5 })).toThrow('Invalid prefetch 1.5');
    expect(() => createWorker({ connection, saga: orderFulfilment, namespace: 'a.b' })).toThrow('Invalid namespace "a.b"');
  });

  it('refuses registrations after stop, and start after stop', async () => {
    const worker = newWorker();
    await worker.stop();
    expect(() => worker.step(reserveInventory, () => ({ reservationId: 'r' }))).toThrow(/once it has stopped/);
    await expect(worker.start()).rejects.toThrow('The worker of saga "order-fulfilment" is already stopped');
  });

  it('types handlers by the step codecs', () => {
    const worker = newWorker();
    worker.step(reserveInventory, (command, ctx) => {
      expectTypeOf(command).toEqualTypeOf<{ orderId: string; items: { sku: string; quantity: number }[] }>();
      expectTypeOf(ctx.effect.key).toBeString();
      expectTypeOf(ctx.signal).toEqualTypeOf<AbortSignal>();
      return { reservationId: 'r' };
    });
    worker.compensation(reserveInventory, (command) => {
      expectTypeOf(command).toEqualTypeOf<{ orderId: string; reservationId: string | null }>();
    });
    worker.step(createShipment, async (command) => Promise.resolve({ trackingNumber: command.reservationId }));
    const typeErrors = (w: Worker<OrderInput>): void => {
      // @ts-expect-error the reply must match the step's reply codec
      w.step(chargePayment, () => ({ paymentId: 42 }));
      // @ts-expect-error the command has the step's command type
      w.step(chargePayment, (_: { orderId: number }) => ({ paymentId: 'p' }));
    };
    expect(typeErrors).toBeTypeOf('function');
  });
});
