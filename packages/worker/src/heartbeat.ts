import type { JsMsg } from '@nats-io/jetstream';

/** A running heartbeat of one message. */
export interface Heartbeat {
  /** Extends the message's acknowledgement deadline now. */
  readonly beat: () => void;
  /** Stops the timer; later beats do nothing. */
  readonly stop: () => void;
}

/**
 * Tells the server every `everyMs` that `msg` is still being worked on (`+WPI`), which restarts its
 * ack wait, so a handler longer than the ack wait is not redelivered to another worker. Beats on a
 * closed connection are ignored: the message is then redelivered, as after a crash.
 */
export function startHeartbeat(msg: JsMsg, everyMs: number): Heartbeat {
  let stopped = false;
  const beat = (): void => {
    if (stopped) return;
    try {
      msg.working();
    } catch {
      // Connection closed or draining: nothing to extend any more.
    }
  };
  // everyMs 0: no automatic beats; `beat` (ctx.working()) still extends the deadline.
  const timer = everyMs === 0 ? undefined : setInterval(beat, everyMs);
  timer?.unref();
  return {
    beat,
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}
