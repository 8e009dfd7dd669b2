/** What a worker replies, driven by the engine's real NATS transport with hand-built commands. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commandHeaders } from '@sagaflow/nats';
import { StepFailure, type WorkerContext } from '@sagaflow/worker';
import { chargePayment, createShipment, reserveInventory } from '../../../sagas/order-fulfilment.saga.js';
import { commandOf, openHarness, type Harness } from './support/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await openHarness();
});
afterEach(async () => {
  await h.close();
});

const items = [{ sku: 'sku-1', quantity: 2 }];

describe('replies', () => {
  it('replies the handler result, encoded by the step reply codec, with the effect identity in the context', async () => {
    const seen: { command: unknown; context: WorkerContext['effect'] }[] = [];
    const worker = await h.worker();
    worker.step(reserveInventory, (command, ctx) => {
      seen.push({ command, context: ctx.effect });
      return { reservationId: `res-${command.orderId}` };
    });
    await worker.start();

    const effect = commandOf(reserveInventory, { orderId: 'o-1', items }, { attempt: 2 });
    await h.dispatch(effect);
    expect(await h.replyTo(effect)).toEqual({ instanceId: effect.instanceId, effectId: effect.id, outcome: { ok: true, reply: { reservationId: 'res-o-1' } } });
    const { type: _, command: __, ...identity } = effect;
    expect(seen).toEqual([{ command: { orderId: 'o-1', items }, context: identity }]);
  });

  it('replies ok to a compensation, whose handler gets the compensation command', async () => {
    const released: unknown[] = [];
    const worker = await h.worker();
    worker.compensation(reserveInventory, (command) => void released.push(command));
    await worker.start();

    const effect = commandOf(reserveInventory, { orderId: 'o-2', reservationId: null }, { kind: 'compensation' });
    expect(effect.operation).toBe('releaseInventory');
    await h.dispatch(effect);
    expect((await h.replyTo(effect)).outcome).toEqual({ ok: true });
    expect(released).toEqual([{ orderId: 'o-2', reservationId: null }]);
  });

  it('replies a StepFailure as a failure with its code, message and retryability', async () => {
    const worker = await h.worker();
    worker.step(chargePayment, (command) => {
      if (command.amountCents > 1000) throw new StepFailure('PaymentDeclined', 'insufficient funds');
      throw new StepFailure('GatewayBusy', 'try later', { retryable: true });
    });
    await worker.start();

    const declined = commandOf(chargePayment, { orderId: 'o-3', customerId: 'c', amountCents: 5000 });
    const busy = commandOf(chargePayment, { orderId: 'o-4', customerId: 'c', amountCents: 10 });
    await h.dispatch(declined);
    await h.dispatch(busy);
    expect((await h.replyTo(declined)).outcome).toEqual({ ok: false, error: { code: 'PaymentDeclined', message: 'insufficient funds', retryable: false } });
    expect((await h.replyTo(busy)).outcome).toEqual({ ok: false, error: { code: 'GatewayBusy', message: 'try later', retryable: true } });
  });

  it('replies anything else thrown as a retryable WorkerError with its message', async () => {
    const worker = await h.worker();
    worker.step(createShipment, () => Promise.reject(new Error('carrier API down')));
    await worker.start();

    const effect = commandOf(createShipment, { orderId: 'o-5', reservationId: 'r', address: 'a' });
    await h.dispatch(effect);
    expect((await h.replyTo(effect)).outcome).toEqual({ ok: false, error: { code: 'WorkerError', message: 'carrier API down', retryable: true } });
  });

  it('replies a non-retryable InvalidCommand naming the field paths when the body fails the codec, without running the handler', async () => {
    let calls = 0;
    const worker = await h.worker();
    worker.step(reserveInventory, () => ({ reservationId: `r${++calls}` }));
    await worker.start();

    const effect = commandOf(reserveInventory, { orderId: 42, items: [{ sku: 'a', quantity: 'two' }] });
    await h.dispatch(effect);
    const { outcome } = await h.replyTo(effect);
    expect(outcome).toMatchObject({ ok: false, error: { code: 'InvalidCommand', retryable: false } });
    const message = outcome.ok ? '' : outcome.error.message;
    expect(message).toContain('reserveInventory');
    expect(message).toContain('orderId: expected string, got 42');
    expect(message).toContain('items.0.quantity: expected number, got "two"');
    expect(calls).toBe(0);
  });

  it('replies InvalidCommand when the body is not JSON at all', async () => {
    const worker = await h.worker();
    worker.step(reserveInventory, () => ({ reservationId: 'r' }));
    await worker.start();

    const effect = commandOf(reserveInventory, null);
    await h.js.publish(h.names.command(effect.saga, effect.operation), new Uint8Array([0x7b, 0xff, 0x00]), {
      headers: commandHeaders(effect, h.names.reply(effect.saga)),
      msgID: effect.id,
    });
    const { outcome } = await h.replyTo(effect);
    expect(outcome).toMatchObject({ ok: false, error: { code: 'InvalidCommand', retryable: false } });
    expect(outcome.ok ? '' : outcome.error.message).toMatch(/not UTF-8 JSON/);
  });

  it('replies a retryable InvalidReply when the handler returns something its reply codec refuses', async () => {
    const worker = await h.worker();
    worker.step(reserveInventory, () => ({ reservationId: 7 }) as unknown as { reservationId: string });
    await worker.start();

    const effect = commandOf(reserveInventory, { orderId: 'o-6', items });
    await h.dispatch(effect);
    expect((await h.replyTo(effect)).outcome).toEqual({
      ok: false,
      error: { code: 'InvalidReply', message: 'the handler of reserveInventory returned an invalid reply: reservationId: expected string, got 7', retryable: true },
    });
  });

  it('serves several operations at once, each from its own consumer', async () => {
    const worker = await h.worker();
    worker
      .step(reserveInventory, (c) => ({ reservationId: `res-${c.orderId}` }))
      .step(chargePayment, (c) => ({ paymentId: `pay-${c.orderId}` }))
      .compensation(chargePayment, () => undefined);
    await worker.start();

    const effects = [
      commandOf(reserveInventory, { orderId: 'a', items }),
      commandOf(chargePayment, { orderId: 'b', customerId: 'c', amountCents: 1 }),
      commandOf(chargePayment, { orderId: 'c', paymentId: null, amountCents: 1 }, { kind: 'compensation' }),
    ];
    for (const effect of effects) await h.dispatch(effect);
    const outcomes = await Promise.all(effects.map(async (e) => (await h.replyTo(e)).outcome));
    expect(outcomes).toEqual([{ ok: true, reply: { reservationId: 'res-a' } }, { ok: true, reply: { paymentId: 'pay-b' } }, { ok: true }]);
  });
});

describe('command header forms', () => {
  it('answers an engine that sends full headers as it answers compact ones, with the same effect identity', async () => {
    const full = await openHarness({ commandHeaders: 'full' });
    try {
      const seen: WorkerContext['effect'][] = [];
      const worker = await full.worker();
      worker.step(reserveInventory, (command, ctx) => {
        seen.push(ctx.effect);
        return { reservationId: `res-${command.orderId}` };
      });
      worker.compensation(reserveInventory, (_command, ctx) => void seen.push(ctx.effect));
      await worker.start();

      const action = commandOf(reserveInventory, { orderId: 'o-f', items }, { attempt: 3 });
      const compensation = commandOf(reserveInventory, { orderId: 'o-f', reservationId: 'res-o-f' }, { kind: 'compensation', instanceId: action.instanceId });
      await full.dispatch(action);
      expect((await full.replyTo(action)).outcome).toEqual({ ok: true, reply: { reservationId: 'res-o-f' } });
      await full.dispatch(compensation);
      expect((await full.replyTo(compensation)).outcome).toEqual({ ok: true });
      const identity = ({ type: _, command: __, ...rest }: typeof action) => rest;
      expect(seen).toEqual([identity(action), identity(compensation)]);
    } finally {
      await full.close();
    }
  });

  it('hands a compensation the identity of its step, read off a compact command', async () => {
    const seen: WorkerContext['effect'][] = [];
    const worker = await h.worker();
    worker.compensation(reserveInventory, (_command, ctx) => void seen.push(ctx.effect));
    await worker.start();

    const effect = commandOf(reserveInventory, { orderId: 'o-c', reservationId: null }, { kind: 'compensation', attempt: 2 });
    await h.dispatch(effect);
    expect((await h.replyTo(effect)).outcome).toEqual({ ok: true });
    const { type: _, command: __, ...identity } = effect;
    expect(seen).toEqual([identity]);
  });
});
