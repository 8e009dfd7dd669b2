/** Delivery guarantees: heartbeats, redelivery after a failed reply or a crash, stop, concurrency. */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { createMetricsRegistry, type WorkerContext } from '@sagaflow/worker';
import { chargePayment, createShipment, reserveInventory } from '../../../sagas/order-fulfilment.saga.js';
import { delayingProxy } from './support/delaying-proxy.js';
import { commandOf, eventually, openHarness, sleep, type Harness } from './support/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await openHarness();
});
afterEach(async () => {
  await h.close();
});

const items = [{ sku: 'sku-1', quantity: 1 }];
const reserve = (orderId: string) => commandOf(reserveInventory, { orderId, items });

/** A connection whose first JetStream publish to a reply subject fails, as if the server were unreachable. */
function failingFirstReply(connection: NatsConnection, namespace: string): NatsConnection {
  let failed = false;
  const publish: NatsConnection['publish'] = (subject, payload, options) => {
    if (!failed && subject.startsWith(`${namespace}.reply.`)) {
      failed = true;
      throw new Error('simulated outage');
    }
    connection.publish(subject, payload, options);
  };
  return new Proxy(connection, {
    get(target, property) {
      if (property === 'publish') return publish;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Commands a worker holds for a free handler now, by its `sagaflow_worker_commands_held` gauge. */
async function heldCommands(metrics: Registry): Promise<number> {
  const gauge = await metrics.getSingleMetric('sagaflow_worker_commands_held')?.get();
  return gauge?.values.reduce((sum, { value }) => sum + value, 0) ?? 0;
}

/** A handler that runs until the worker stops, then gives up. */
const untilStopped = (ctx: WorkerContext): Promise<never> =>
  new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('worker stopping')), { once: true }));

describe('delivery', () => {
  it('keeps a handler longer than the ack wait from being redelivered, by heartbeats', async () => {
    let calls = 0;
    const worker = await h.worker({ consumer: { ackWaitMs: 1000 } });
    worker.step(reserveInventory, async () => {
      calls++;
      await sleep(2500);
      return { reservationId: 'slow' };
    });
    await worker.start();

    const effect = reserve('slow-1');
    await h.dispatch(effect);
    expect((await h.replyTo(effect)).outcome).toEqual({ ok: true, reply: { reservationId: 'slow' } });
    await sleep(1500);
    expect(calls).toBe(1);
    expect(h.replies).toHaveLength(1);
  });

  it('redelivers a command whose reply could not be stored; the handler sees the same effect twice and one reply arrives', async () => {
    const seen: WorkerContext['effect'][] = [];
    const connection = failingFirstReply(await h.connect(), h.namespace);
    const worker = await h.worker({ connection });
    worker.step(reserveInventory, (_, ctx) => {
      seen.push(ctx.effect);
      return { reservationId: `res-${seen.length}` };
    });
    await worker.start();

    const effect = reserve('flaky-1');
    await h.dispatch(effect);
    expect((await h.replyTo(effect)).outcome).toEqual({ ok: true, reply: { reservationId: 'res-2' } });
    expect(seen).toHaveLength(2);
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[0]).toMatchObject({ id: effect.id, key: effect.key });
    const line = h.logs.find((each) => each.includes(`reply to ${effect.id} not stored`) && each.includes('simulated outage'));
    // The line says what it is about: saga, instance, step and effect (no trace here: nothing traced the dispatch).
    expect(line).toContain(JSON.stringify({ saga: effect.saga, instanceId: effect.instanceId, step: 'reserveInventory', effectId: effect.id }));
    await sleep(300);
    expect(h.replies).toHaveLength(1);
  });

  it('redelivers the command of a crashed worker to another one, with the same effect key', async () => {
    const crashing = await h.connect();
    const first = await h.worker({ connection: crashing, consumer: { ackWaitMs: 1000 } });
    const keys: string[] = [];
    first.step(reserveInventory, (_, ctx) => {
      keys.push(ctx.effect.key);
      return untilStopped(ctx);
    });
    await first.start();
    const effect = reserve('crash-1');
    await h.dispatch(effect);
    await eventually(() => (keys.length === 1 ? true : undefined), 'the first delivery');

    await crashing.close(); // no ack, no more heartbeats: the server redelivers after the ack wait
    const second = await h.worker({ consumer: { ackWaitMs: 1000 } });
    second.step(reserveInventory, (_, ctx) => {
      keys.push(ctx.effect.key);
      return { reservationId: 'after-crash' };
    });
    await second.start();
    expect((await h.replyTo(effect)).outcome).toEqual({ ok: true, reply: { reservationId: 'after-crash' } });
    expect(keys).toEqual([effect.key, effect.key]);
  });

  it('stop() stops taking commands and resolves once the handlers in progress are done and replied', async () => {
    let started = 0;
    let finished = 0;
    let abortedDuring = false;
    const worker = await h.worker();
    worker.step(reserveInventory, async (_, ctx) => {
      started++;
      await sleep(800);
      abortedDuring = ctx.signal.aborted;
      finished++;
      return { reservationId: 'done' };
    });
    await worker.start();
    const effect = reserve('stop-1');
    await h.dispatch(effect);
    await eventually(() => (started === 1 ? true : undefined), 'the handler to start');

    const stopped = worker.stop();
    await stopped;
    expect(finished).toBe(1);
    expect(abortedDuring).toBe(true);
    expect((await h.replyTo(effect)).outcome).toEqual({ ok: true, reply: { reservationId: 'done' } });

    const later = reserve('stop-2');
    await h.dispatch(later);
    await sleep(500);
    expect(started).toBe(1);
    expect((await h.jsm.streams.info(h.names.streams.commands)).state.messages).toBe(1);
  });

  it('leaves no pull request behind on stop: a command dispatched right after waits for the next worker', async () => {
    const consumer = h.names.operationConsumer('order-fulfilment', 'reserveInventory');
    // A stopped worker that swallowed the command would hold it for the ack wait (30 s); the race is narrow, so try it often.
    let last = reserve('after-stop');
    for (let round = 0; round < 10; round++) {
      const stopped = await h.worker();
      stopped.step(reserveInventory, () => ({ reservationId: 'stopped' }));
      await stopped.start();
      await sleep(50); // its pull request is waiting on the server
      await stopped.stop();
      last = reserve(`after-stop-${round}`);
      await h.dispatch(last);
      await sleep(50);
      const info = await h.jsm.consumers.info(h.names.streams.commands, consumer);
      expect({ round, waiting: info.num_pending, delivered: info.num_ack_pending }).toEqual({ round, waiting: 1, delivered: 0 });
      if (round < 9) await h.jsm.streams.purge(h.names.streams.commands);
    }

    const next = await h.worker();
    next.step(reserveInventory, () => ({ reservationId: 'next' }));
    await next.start();
    expect((await h.replyTo(last)).outcome).toEqual({ ok: true, reply: { reservationId: 'next' } });
  });

  it('hands back a command the server sent to a pull just as the worker stopped, instead of losing it for the ack wait', async () => {
    // The stopping worker's connection goes through a proxy that holds what the server sends for a while:
    // the command is on its way when the worker stops, as it can be at any moment on a real network.
    const proxy = await delayingProxy(inject('natsUrl'), 200);
    const connection = await connect({ servers: proxy.url, name: `worker-test-${h.namespace}-delayed` });
    try {
      const stopping = await h.worker({ connection });
      stopping.step(reserveInventory, () => ({ reservationId: 'stopping' }));
      await stopping.start();
      const consumer = h.names.operationConsumer('order-fulfilment', 'reserveInventory');
      const info = () => h.jsm.consumers.info(h.names.streams.commands, consumer);
      await eventually(async () => ((await info()).num_waiting > 0 ? true : undefined), "the stopping worker's pull on the server");

      const effect = reserve('in-transit');
      await h.dispatch(effect);
      await eventually(async () => ((await info()).num_ack_pending === 1 ? true : undefined), 'the command sent to that pull');
      await stopping.stop();
      expect((await info()).config.ack_wait).toBe(30_000_000_000);

      // Received after the stop began and handed back, the command goes to the next worker at once, not once the
      // ack wait (30 s) has ended for a worker that is gone.
      const next = await h.worker();
      next.step(reserveInventory, () => ({ reservationId: 'next' }));
      await next.start();
      const reply = await eventually(() => h.replies.find((r) => r.effectId === effect.id), 'the reply from the next worker', 5_000);
      expect(reply.outcome).toEqual({ ok: true, reply: { reservationId: 'next' } });
    } finally {
      await connection.close();
      await proxy.close();
    }
  });

  it('hands back the command of a handler that gives up on stop, without replying a failure', async () => {
    const first = await h.worker();
    let firstCalls = 0;
    first.step(reserveInventory, (_, ctx) => {
      firstCalls++;
      return untilStopped(ctx);
    });
    await first.start();
    const effect = reserve('handback-1');
    await h.dispatch(effect);
    await eventually(() => (firstCalls === 1 ? true : undefined), 'the first delivery');
    await first.stop();

    const second = await h.worker();
    const ids: string[] = [];
    second.step(reserveInventory, (_, ctx) => {
      ids.push(ctx.effect.id);
      return { reservationId: 'second' };
    });
    await second.start();
    expect((await h.replyTo(effect)).outcome).toEqual({ ok: true, reply: { reservationId: 'second' } });
    expect(ids).toEqual([effect.id]);
    expect(h.replies).toHaveLength(1);
  });

  it('handles at most `concurrency` commands at once, over all its operations', async () => {
    let running = 0;
    let peak = 0;
    const busy = async <T>(value: T): Promise<T> => {
      running++;
      peak = Math.max(peak, running);
      await sleep(100);
      running--;
      return value;
    };
    const worker = await h.worker({ concurrency: 3 });
    worker.step(reserveInventory, () => busy({ reservationId: 'r' })).step(chargePayment, () => busy({ paymentId: 'p' }));
    await worker.start();

    const effects = [
      ...Array.from({ length: 6 }, (_, i) => reserve(`many-${i}`)),
      ...Array.from({ length: 6 }, (_, i) => commandOf(chargePayment, { orderId: `many-${i}`, customerId: 'c', amountCents: 1 })),
    ];
    await Promise.all(effects.map((effect) => h.dispatch(effect)));
    await Promise.all(effects.map((effect) => h.replyTo(effect)));
    expect(peak).toBe(3);
    expect(h.replies.every((reply) => reply.outcome.ok)).toBe(true);
  });

  it('lets a busy operation use the slots its idle operations do not need', async () => {
    // Five operations share 12 slots (no prefetch: a slot per handler); only one has work. Each idle operation
    // keeps one slot for its open pull, so the busy one can run 12 - 4 = 8 commands at once (a fixed share
    // would give it 12 / 5 = 2).
    let running = 0;
    let peak = 0;
    let openGate: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const worker = await h.worker({ concurrency: 12, prefetch: 0 });
    worker
      .step(reserveInventory, async () => {
        running++;
        peak = Math.max(peak, running);
        await gate;
        running--;
        return { reservationId: 'r' };
      })
      .step(chargePayment, () => ({ paymentId: 'p' }))
      .step(createShipment, () => ({ trackingNumber: 't' }))
      .compensation(reserveInventory, () => undefined)
      .compensation(chargePayment, () => undefined);
    await worker.start();

    const effects = Array.from({ length: 10 }, (_, i) => reserve(`busy-${i}`));
    await Promise.all(effects.map((effect) => h.dispatch(effect)));
    try {
      await eventually(() => (running === 8 ? true : undefined), 'eight commands to run at once', 5_000);
    } finally {
      openGate();
    }
    await Promise.all(effects.map((effect) => h.replyTo(effect)));
    expect(peak).toBe(8);
    expect(h.replies.every((reply) => reply.outcome.ok)).toBe(true);
  });

  it('holds commands pulled ahead of a free handler with their ack deadline extended, and handles each once', async () => {
    // One handler, kept busy while three commands wait behind it for twice the ack wait.
    const handled: string[] = [];
    let running = 0;
    let peak = 0;
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const metrics = createMetricsRegistry();
    const worker = await h.worker({ consumer: { ackWaitMs: 1000 }, concurrency: 1, prefetch: 3, metrics });
    worker.step(reserveInventory, async (_, ctx) => {
      running++;
      peak = Math.max(peak, running);
      handled.push(ctx.effect.id);
      if (handled.length === 1) await released;
      running--;
      return { reservationId: 'held' };
    });
    await worker.start();
    const effects = Array.from({ length: 4 }, (_, i) => reserve(`held-${i}`));
    for (const effect of effects) await h.dispatch(effect);
    await eventually(async () => ((await heldCommands(metrics)) === 3 ? true : undefined), 'three commands held behind the busy handler');
    await sleep(2_100);
    expect(await heldCommands(metrics)).toBe(3);
    release();
    await Promise.all(effects.map((effect) => h.replyTo(effect)));
    await sleep(1500);
    expect(peak).toBe(1);
    expect(handled.toSorted()).toEqual(effects.map((effect) => effect.id).toSorted());
    expect(h.replies).toHaveLength(4);
    expect(await heldCommands(metrics)).toBe(0);
  });

  it('hands back the commands it holds when it stops, for the next worker at once', async () => {
    const metrics = createMetricsRegistry();
    const first = await h.worker({ concurrency: 1, prefetch: 2, metrics });
    let firstCalls = 0;
    first.step(reserveInventory, (_, ctx) => {
      firstCalls++;
      return untilStopped(ctx);
    });
    await first.start();
    const effects = Array.from({ length: 3 }, (_, i) => reserve(`held-stop-${i}`));
    for (const effect of effects) await h.dispatch(effect);
    await eventually(async () => (firstCalls === 1 && (await heldCommands(metrics)) === 2 ? true : undefined), 'one command handled and two held by the first worker');
    await first.stop();
    expect(firstCalls).toBe(1);

    // Handed back, not left to the server's default ack wait of 30 s.
    const second = await h.worker();
    second.step(reserveInventory, () => ({ reservationId: 'second' }));
    await second.start();
    for (const effect of effects) expect((await h.replyTo(effect)).outcome).toEqual({ ok: true, reply: { reservationId: 'second' } });
    expect(h.replies).toHaveLength(3);
  });

  it('gives a worker started while others hold a backlog its share, with the default settings', async () => {
    // Three busy workers hold up to concurrency + prefetch = 400 commands each; the consumer must leave a
    // fourth, started to help with the backlog, commands for its 100 handlers.
    const running = new Map<number, number>();
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const start = async (n: number): Promise<void> => {
      const worker = await h.worker();
      worker.step(reserveInventory, async () => {
        running.set(n, (running.get(n) ?? 0) + 1);
        await released;
        return { reservationId: `w${n}` };
      });
      await worker.start();
    };
    const effects = Array.from({ length: 1600 }, (_, i) => reserve(`backlog-${i}`));
    await Promise.all(effects.map((effect) => h.dispatch(effect)));
    const consumer = h.names.operationConsumer('order-fulfilment', 'reserveInventory');
    const withWorkers = async (): Promise<number> => (await h.jsm.consumers.info(h.names.streams.commands, consumer)).num_ack_pending;
    try {
      for (const n of [0, 1, 2]) await start(n);
      await eventually(async () => ([0, 1, 2].every((n) => running.get(n) === 100) && (await withWorkers()) >= 1000 ? true : undefined), 'three workers running 100 handlers each and holding the rest');
      await start(3);
      await eventually(() => (running.get(3) === 100 ? true : undefined), 'the fourth worker running its 100 handlers');
    } finally {
      release();
    }
    await eventually(() => (h.replies.length === effects.length ? true : undefined), 'every reply', 30_000);
  }, 60_000);

  it('warns at start when its consumer allows fewer unacknowledged commands than the worker takes', async () => {
    const worker = await h.worker({ consumer: { maxAckPending: 50 }, concurrency: 10, prefetch: 100 });
    worker.step(reserveInventory, () => ({ reservationId: 'r' }));
    await worker.start();
    const consumer = h.names.operationConsumer('order-fulfilment', 'reserveInventory');
    expect(h.logs).toContain(
      `worker: consumer ${consumer} allows 50 unacknowledged commands over all its workers, fewer than this worker's concurrency + prefetch (110): ` +
        'its handlers may sit idle while commands wait in the stream; raise consumer.maxAckPending or lower prefetch',
    );
    // The defaults fit the defaults: no such line.
    const fitting = await h.worker({ consumer: {} });
    fitting.step(reserveInventory, () => ({ reservationId: 'r' }));
    await fitting.start();
    expect(h.logs.filter((line) => line.includes('unacknowledged commands over all its workers'))).toHaveLength(1);
  });

  it('refuses to start with a heartbeat not shorter than the ack wait', async () => {
    const worker = await h.worker({ consumer: { ackWaitMs: 1000 }, heartbeatMs: 1000 });
    worker.step(reserveInventory, () => ({ reservationId: 'r' }));
    await expect(worker.start()).rejects.toThrow(/heartbeatMs 1000 is not shorter than the ack wait \(1000 ms\) of consumer T\w+_W_order-fulfilment_reserveInventory/);
  });
});
