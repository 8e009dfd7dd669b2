/** Commands a worker cannot read are dead-lettered once, intact, and the worker carries on. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commandBody, commandHeaders, header, listDeadLetters } from '@sagaflow/nats';
import { chargePayment, reserveInventory } from '../../../sagas/order-fulfilment.saga.js';
import { commandOf, eventually, openHarness, sleep, type Harness } from './support/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await openHarness();
});
afterEach(async () => {
  await h.close();
});

const items = [{ sku: 'sku-1', quantity: 1 }];

describe('dead letters', () => {
  it('dead-letters garbage without headers once, with the reason and the original bytes, and keeps serving', async () => {
    let calls = 0;
    const worker = await h.worker();
    worker.step(reserveInventory, () => ({ reservationId: `r${++calls}` }));
    await worker.start();

    const garbage = new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x00, 0x7b]);
    const subject = h.names.command('order-fulfilment', 'reserveInventory');
    const stored = await h.js.publish(subject, garbage);

    const letter = await eventually(async () => (await listDeadLetters(h.jsm, h.names))[0], 'the dead letter');
    expect(letter).toMatchObject({ originSubject: subject, originStream: h.names.streams.commands, originSequence: stored.seq, deliveries: 1, instanceId: null });
    expect(letter.reason).toMatch(/^undecodable command: missing header\(s\) Sagaflow-Instance, /);
    expect([...letter.data]).toEqual([...garbage]);

    // The same worker still answers a good command, and the garbage is gone from the commands stream.
    const effect = commandOf(reserveInventory, { orderId: 'o-1', items });
    await h.dispatch(effect);
    expect((await h.replyTo(effect)).outcome).toEqual({ ok: true, reply: { reservationId: 'r1' } });
    await sleep(300);
    expect(await listDeadLetters(h.jsm, h.names)).toHaveLength(1);
    expect((await h.jsm.streams.info(h.names.streams.commands)).state.messages).toBe(0);
    expect(calls).toBe(1);
  });

  it('dead-letters a command whose full headers name another operation, keeping its headers', async () => {
    const worker = await h.worker();
    worker.step(reserveInventory, () => ({ reservationId: 'r' }));
    await worker.start();

    const charge = commandOf(chargePayment, { orderId: 'o-2', customerId: 'c', amountCents: 1 });
    await h.js.publish(h.names.command('order-fulfilment', 'reserveInventory'), commandBody(charge), {
      headers: commandHeaders(charge, h.names.reply(charge.saga), 'full'),
    });

    const letter = await eventually(async () => (await listDeadLetters(h.jsm, h.names))[0], 'the dead letter');
    expect(letter.reason).toBe(
      'misdelivered command: its headers name operation "chargePayment", step "chargePayment", but this consumer serves operation "reserveInventory", step "reserveInventory"',
    );
    expect(letter).toMatchObject({ instanceId: charge.instanceId, effectId: charge.id });
    expect(letter.headers[header.key]).toEqual([charge.key]);
    expect(JSON.parse(new TextDecoder().decode(letter.data))).toEqual(charge.command);
    expect(h.replies).toEqual([]);
  });

  it('dead-letters a compact command whose effect id is of another step, or malformed', async () => {
    const worker = await h.worker();
    worker.step(reserveInventory, () => ({ reservationId: 'r' }));
    await worker.start();

    const subject = h.names.command('order-fulfilment', 'reserveInventory');
    const charge = commandOf(chargePayment, { orderId: 'o-4', customerId: 'c', amountCents: 1 });
    await h.js.publish(subject, commandBody(charge), { headers: commandHeaders(charge, h.names.reply(charge.saga), 'compact') });
    const misdelivered = await eventually(async () => (await listDeadLetters(h.jsm, h.names))[0], 'the first dead letter');
    expect(misdelivered.reason).toBe('misdelivered command: its headers name step "chargePayment", but this consumer serves step "reserveInventory"');
    expect(misdelivered).toMatchObject({ instanceId: charge.instanceId, effectId: charge.id });

    const reserve = commandOf(reserveInventory, { orderId: 'o-5', items });
    const h2 = commandHeaders(reserve, h.names.reply(reserve.saga), 'compact');
    h2.set(header.effect, `${reserve.instanceId}/reserveInventory/action/first`);
    await h.js.publish(subject, commandBody(reserve), { headers: h2 });
    const malformed = await eventually(async () => (await listDeadLetters(h.jsm, h.names))[1], 'the second dead letter');
    expect(malformed.reason).toBe(
      `undecodable command: header Sagaflow-Effect is "${reserve.instanceId}/reserveInventory/action/first", expected ${reserve.instanceId}/<step>/<action|compensation>/<attempt>`,
    );
    expect(h.replies).toEqual([]);
  });

  it('dead-letters a minimal command (its message id alone names the effect) of another step, the letter naming the effect', async () => {
    const worker = await h.worker();
    worker.step(reserveInventory, () => ({ reservationId: 'r' }));
    await worker.start();

    const charge = commandOf(chargePayment, { orderId: 'o-6', customerId: 'c', amountCents: 1 }, { instanceId: 'shop/eu/o-6' });
    const headers = commandHeaders(charge, h.names.reply(charge.saga));
    expect([...headers.keys()]).toEqual([]);
    await h.js.publish(h.names.command('order-fulfilment', 'reserveInventory'), commandBody(charge), { headers, msgID: charge.id });
    const letter = await eventually(async () => (await listDeadLetters(h.jsm, h.names))[0], 'the dead letter');
    expect(letter.reason).toBe('misdelivered command: its headers name step "chargePayment", but this consumer serves step "reserveInventory"');
    expect(letter).toMatchObject({ instanceId: 'shop/eu/o-6', effectId: charge.id });
    expect(letter.headers[header.instance]).toEqual(['shop/eu/o-6']);
    expect(h.replies).toEqual([]);
  });

  it('dead-letters a command whose full headers name a reply subject outside the namespace replies', async () => {
    const worker = await h.worker();
    worker.step(reserveInventory, () => ({ reservationId: 'r' }));
    await worker.start();

    const effect = commandOf(reserveInventory, { orderId: 'o-3', items });
    await h.js.publish(h.names.command(effect.saga, effect.operation), commandBody(effect), {
      headers: commandHeaders(effect, h.names.command(effect.saga, 'chargePayment'), 'full'),
    });
    const letter = await eventually(async () => (await listDeadLetters(h.jsm, h.names))[0], 'the dead letter');
    expect(letter.reason).toBe(`misdelivered command: reply subject "${h.namespace}.cmd.order-fulfilment.chargePayment" is not under "${h.namespace}.reply."`);
  });
});
