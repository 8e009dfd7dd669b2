import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { handBack } from './handler-gate.js';
import type { Slots } from './slots.js';

/** How long a pull for a single command (an operation waiting for work) waits on the server before it is renewed. */
const idlePullExpiresMs = 5_000;
/** How long a larger pull waits before the slots it could not fill go back to the pool (the least nats.js allows). */
const pullExpiresMs = 1_000;

/** What the pull loop of one operation's consumer needs. */
export interface PullScope {
  readonly consumer: Consumer;
  /** The worker's processing slots, shared with its other operations. */
  readonly slots: Slots;
  /** Most commands one pull asks for. */
  readonly maxBatch: number;
  /** Pause after a failed pull. */
  readonly retryDelayMs: number;
  /** Aborted when the worker stops. */
  readonly signal: AbortSignal;
  readonly log: (message: string) => void;
  /** Handles one command; never rejects. */
  readonly handle: (msg: JsMsg) => Promise<void>;
}

/**
 * Pulls an operation's commands only as slots are free, so the worker never receives more commands
 * than it has room for; each command holds its slot until handled (`handle` settles). A pull holds a slot for
 * every command it asks for, so the size of the pulls follows the operation's demand (see
 * {@link nextPullSize}): an idle operation holds one slot, a busy one as many as are free, up to
 * `maxBatch` per pull ({@link pullCap}).
 * Resolves once stopped.
 */
export async function pullCommands(scope: PullScope): Promise<void> {
  const { consumer, slots, signal } = scope;
  let size = 1;
  while (!signal.aborted) {
    const granted = await slots.acquire(size);
    if (granted === 0) return;
    let received = 0;
    try {
      const messages = await consumer.fetch({ max_messages: granted, expires: granted === 1 ? idlePullExpiresMs : pullExpiresMs });
      const stop = (): void => endPull(messages);
      signal.addEventListener('abort', stop, { once: true });
      if (signal.aborted) stop();
      try {
        for await (const msg of messages) {
          received++;
          if (signal.aborted) {
            handBack(msg);
            slots.release(1);
            continue;
          }
          void scope.handle(msg).finally(() => slots.release(1));
        }
      } finally {
        signal.removeEventListener('abort', stop);
      }
    } catch (error) {
      if (!signal.aborted) {
        scope.log(`pulling commands failed, trying again in ${scope.retryDelayMs} ms: ${error instanceof Error ? error.message : String(error)}`);
        await pause(scope.retryDelayMs, signal);
      }
    } finally {
      slots.release(granted - received);
    }
    size = nextPullSize(granted, received, scope.maxBatch);
  }
}

/**
 * Ends a pull when the worker stops, without losing what is on its way. nats.js's `stop()` unsubscribes at
 * once, so a command the server had sent before it learned of that was dropped on arrival, and waited out
 * the ack wait (30 s) before another worker got it. Draining the pull's subscription instead (unsubscribe,
 * then a round trip to the server) still delivers such commands, which the pull loop hands back; nats.js then
 * ends the pull itself. `ConsumerMessages` offers no drain, so the subscription is reached by the name
 * nats.js gives it; without one (another nats.js), or if the drain fails, the pull is stopped as before.
 */
export function endPull(messages: ConsumerMessages): void {
  const subscription = (messages as unknown as { readonly sub?: Partial<Drainable> }).sub;
  if (typeof subscription?.drain !== 'function' || typeof subscription.isClosed !== 'function' || subscription.isClosed()) {
    messages.stop();
    return;
  }
  subscription.drain().catch(() => messages.stop());
}

/** What {@link endPull} needs of a nats.js subscription. */
interface Drainable {
  drain(): Promise<void>;
  isClosed(): boolean;
}

/**
 * How many commands the next pull asks for, after one that asked for `asked` and received `received`:
 * twice as many after a pull that filled (more may be waiting), what arrived after one that ran out
 * its time, and one while nothing comes; never more than `max`.
 */
export function nextPullSize(asked: number, received: number, max: number): number {
  return Math.max(1, Math.min(max, received >= asked ? asked * 2 : received));
}

/**
 * The most commands one pull of an operation may ask for: an equal share of the worker's slots among the
 * operations it serves (at least one). A pull holds a slot for every command it asks for until it fills
 * or runs out its time, so a pull of nearly every slot, open while its commands trickle in, left the
 * other operations one slot each and their commands waiting in the stream. The share bounds a pull, not
 * an operation: a busy operation still takes every free slot, pull after pull.
 */
export function pullCap(slots: number, operations: number): number {
  return Math.max(1, Math.floor(slots / Math.max(1, operations)));
}

const pause = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
