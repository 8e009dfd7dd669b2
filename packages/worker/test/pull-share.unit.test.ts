/**
 * Pull sizes of two operations sharing a worker's slots, against a test double of the JetStream pull
 * consumer (no server: a fetch hands out queued commands up to its size, then stays open until stopped),
 * so the moment one operation's pull waits for commands that do not come is exact.
 */
import type { Consumer, JsMsg } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { pullCap, pullCommands } from '../src/pull-commands.js';
import { Slots } from '../src/slots.js';
import { eventually } from './support/harness.js';

/** Test double of a pull consumer: `fetch` delivers what is queued, up to its size, and waits for more until stopped. */
class StubConsumer {
  readonly asked: number[] = [];
  private readonly queued: JsMsg[] = [];
  private waiting: { room: number; push: (msg: JsMsg | null) => void } | null = null;

  /** Queues `count` commands, delivered to the open pull first. */
  add(count: number): void {
    for (let i = 0; i < count; i++) {
      const msg = { nak: () => undefined } as unknown as JsMsg;
      if (this.waiting !== null && this.waiting.room > 0) this.waiting.push(msg);
      else this.queued.push(msg);
    }
  }

  /** How many commands the pull open now asked for and has not received (0 when none is open): the slots it holds. */
  get reserved(): number {
    return this.waiting?.room ?? 0;
  }

  readonly fetch = (options: { max_messages: number }): Promise<AsyncIterable<JsMsg> & { stop(): void }> => {
    this.asked.push(options.max_messages);
    const inbox: (JsMsg | null)[] = this.queued.splice(0, options.max_messages);
    let wake: () => void = () => undefined;
    const pull = {
      room: options.max_messages - inbox.length,
      push: (msg: JsMsg | null): void => {
        if (msg !== null) pull.room--;
        inbox.push(msg);
        wake();
      },
    };
    this.waiting = pull;
    const close = (): void => {
      if (this.waiting === pull) this.waiting = null;
    };
    async function* messages(): AsyncGenerator<JsMsg> {
      for (let delivered = 0; delivered < options.max_messages; ) {
        const next = inbox.shift();
        if (next === null) break;
        if (next === undefined) {
          await new Promise<void>((resolve) => (wake = resolve));
          continue;
        }
        delivered++;
        yield next;
      }
      close();
    }
    const iterator = messages();
    return Promise.resolve({ [Symbol.asyncIterator]: () => iterator, stop: () => pull.push(null) });
  };
}

function loop(consumer: StubConsumer, slots: Slots, maxBatch: number, handle: (msg: JsMsg) => Promise<void>, signal: AbortSignal): Promise<void> {
  return pullCommands({ consumer: consumer as unknown as Consumer, slots, maxBatch, retryDelayMs: 10, signal, log: () => undefined, handle });
}

describe('pulls of operations sharing the slots', () => {
  it("a pull waiting for commands holds no more than its operation's share, so another operation can use the rest", async () => {
    const slots = new Slots(20);
    const maxBatch = pullCap(20, 2);
    const stop = new AbortController();
    const reservations = new StubConsumer();
    const payments = new StubConsumer();
    let reserved = 0;
    let running = 0;
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const loops = [
      loop(reservations, slots, maxBatch, () => {
        reserved++;
        return Promise.resolve();
      }, stop.signal),
      loop(payments, slots, maxBatch, async () => {
        running++;
        await gate;
      }, stop.signal),
    ];
    // A backlog of reservations, handled at once: each filled pull doubles the next, up to the share
    // (1, 2, 4, 8, then 10 at a time); the pull after them waits, open, for commands that do not come.
    reservations.add(55);
    await eventually(() => (reserved === 55 && reservations.reserved > 0 ? true : undefined), 'the backlog handled and the next reservation pull waiting');
    expect(reservations.reserved).toBeLessThanOrEqual(maxBatch);

    payments.add(10);
    try {
      await eventually(() => (running === 10 ? true : undefined), 'ten payments to run at once beside the open reservation pull', 2_000);
    } finally {
      open();
      stop.abort();
      slots.close();
    }
    await Promise.all(loops);
    expect(reservations.asked.every((size) => size <= maxBatch)).toBe(true);
  });
});
