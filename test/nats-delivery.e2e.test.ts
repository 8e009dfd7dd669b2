import { jetstream } from '@nats-io/jetstream';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { compactReplyBody, listDeadLetters, replyBody, replyMsgId } from '@sagaflow/nats';
import { OrderCluster, services } from './support/order-cluster.js';
import { expectOrdersSettledOnce } from './support/order-invariants.js';

let cluster: OrderCluster | null = null;
afterEach(async () => {
  await cluster?.stop();
  cluster = null;
});

const databases = (c: OrderCluster): string[] => services.map((service) => c.dbOf(service));

describe('delivery over NATS: duplicates and poison', () => {
  it('commands redelivered on ack timeout and replies delivered twice produce no second effect and no second event', async () => {
    // A slow service (900 ms) on a consumer whose ack wait is 400 ms, heartbeats off: JetStream redelivers while the first delivery still runs.
    cluster = new OrderCluster(inject('natsUrl'), ['--ack-wait-ms', '400', '--heartbeat-ms', '0', '--latency-ms', '900']);
    await cluster.startAll();
    await cluster.startOrders(0, 40);
    expect(Object.fromEntries(await cluster.settled(40))).toEqual({ completed: 32, compensated: 8 });
    const { duplicates } = await expectOrdersSettledOnce(cluster.eventStore(), databases(cluster), 40);
    expect(duplicates).toBeGreaterThan(0); // the redeliveries did happen

    // Replies delivered again (as after a lost ack): same effect ids, new message ids.
    const store = cluster.eventStore();
    const revisions = await Promise.all(Array.from({ length: 40 }, (_, n) => store.getInstance(`order-${n}`).then((row) => row?.revision)));
    const js = jetstream(await cluster.nats());
    for (let n = 0; n < 40; n++) {
      await js.publish(cluster.names.reply('order-fulfilment'), replyBody({ instanceId: `order-${n}`, effectId: `order-${n}/reserveInventory/action/1`, outcome: { ok: true, reply: { reservationId: 'again' } } }), {
        msgID: `again-${n}`,
      });
    }
    // Compact replies (the effect named by the message id alone) on the subject without a partition, as a
    // worker answering an engine of before partitions sends them: forwarded to their partition with the
    // effect spelled out, then ignored as stale (attempt 7 was never dispatched), never dead-lettered.
    for (let n = 0; n < 40; n++) {
      await js.publish(cluster.names.reply('order-fulfilment'), compactReplyBody({ ok: true, reply: { reservationId: 'late' } }), {
        msgID: replyMsgId(`order-${n}/reserveInventory/action/7`),
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const after = await Promise.all(Array.from({ length: 40 }, (_, n) => store.getInstance(`order-${n}`).then((row) => row?.revision)));
    expect(after).toEqual(revisions);
    expect(await listDeadLetters(await js.jetstreamManager(), cluster.names)).toEqual([]);
    await expectOrdersSettledOnce(store, databases(cluster), 40);
  });

  it('garbage on a command subject and on the reply subject is dead-lettered with a readable reason; the other sagas finish', async () => {
    cluster = new OrderCluster(inject('natsUrl'));
    await cluster.startAll();
    const js = jetstream(await cluster.nats());
    const garbage = new Uint8Array([0xff, 0xfe, 0x00, 0x42, 0x13, 0x37]);
    await cluster.startOrders(0, 20);
    await js.publish(cluster.names.command('order-fulfilment', 'chargePayment'), garbage);
    await js.publish(cluster.names.reply('order-fulfilment'), garbage);
    await cluster.startOrders(20, 40);
    expect(Object.fromEntries(await cluster.settled(40))).toEqual({ completed: 32, compensated: 8 });
    await expectOrdersSettledOnce(cluster.eventStore(), databases(cluster), 40);

    const { jsm } = { jsm: await js.jetstreamManager() };
    let letters = await listDeadLetters(jsm, cluster.names);
    for (let i = 0; i < 50 && letters.length < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      letters = await listDeadLetters(jsm, cluster.names);
    }
    const byOrigin = Object.fromEntries(letters.map((letter) => [letter.originSubject, letter]));
    const command = byOrigin[cluster.names.command('order-fulfilment', 'chargePayment')];
    const reply = byOrigin[cluster.names.reply('order-fulfilment')];
    expect(letters).toHaveLength(2);
    expect(command?.reason).toMatch(/undecodable command: missing header/u);
    expect(reply?.reason).toMatch(/undecodable reply: body is not UTF-8 JSON/u);
    expect([...(command?.data ?? [])]).toEqual([...garbage]);
    expect([...(reply?.data ?? [])]).toEqual([...garbage]);
  });
});
