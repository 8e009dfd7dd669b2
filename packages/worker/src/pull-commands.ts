import type { Consumer, JsMsg } from '@nats-io/jetstream';
import type { Slots } from './slots.js';

/** How long one pull request waits on the server for commands before it is renewed. */
const pullExpiresMs = 5_000;

/** What the pull loop of one operation's consumer needs. */
export interface PullScope {
  readonly consumer: Consumer;
  /** The worker's processing slots, shared with its other operations. */
  readonly slots: Slots;
  /** Most commands one pull asks for (the operation's share of the slots). */
  readonly batch: number;
  /** Pause after a failed pull. */
  readonly retryDelayMs: number;
  /** Aborted when the worker stops. */
  readonly signal: AbortSignal;
  readonly log: (message: string) => void;
  /** Handles one command; never rejects. */
  readonly handle: (msg: JsMsg) => Promise<void>;
}

/**
 * Pulls an operation's commands only as slots are free, so no command waits in a local buffer
 * while its ack wait runs out; each command holds its slot until handled. Resolves once stopped.
 */
export async function pullCommands(scope: PullScope): Promise<void> {
  const { consumer, slots, signal } = scope;
  while (!signal.aborted) {
    const granted = await slots.acquire(scope.batch);
    if (granted === 0) return;
    let received = 0;
    try {
      const messages = await consumer.fetch({ max_messages: granted, expires: pullExpiresMs });
      const stop = (): void => messages.stop();
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
  }
}

/** Gives a command that arrived during stop back to the server for another worker. */
function handBack(msg: JsMsg): void {
  try {
    msg.nak();
  } catch {
    // Connection closed: redelivered after the ack wait.
  }
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
