import type { JsMsg } from '@nats-io/jetstream';
import { startHeartbeat } from './heartbeat.js';

/**
 * The worker's handler slots: at most `size` handlers run at once, and commands received while all are
 * busy wait their turn in arrival order. Closing it turns the waiting commands away.
 */
export class HandlerGate {
  private running = 0;
  private closed = false;
  private readonly waiting: ((admitted: boolean) => void)[] = [];

  constructor(readonly size: number) {}

  /** Commands waiting for a handler slot. */
  get held(): number {
    return this.waiting.length;
  }

  /** Takes a slot if one is free now. */
  tryEnter(): boolean {
    if (this.closed || this.running >= this.size) return false;
    this.running++;
    return true;
  }

  /** Waits for a slot, in arrival order; resolves to false once the gate is closed. */
  enter(): Promise<boolean> {
    if (this.tryEnter()) return Promise.resolve(true);
    if (this.closed) return Promise.resolve(false);
    return new Promise((admit) => this.waiting.push(admit));
  }

  /** Gives a slot back, straight to the longest waiting command if there is one. */
  leave(): void {
    const next = this.waiting.shift();
    if (next !== undefined) next(true);
    else this.running--;
  }

  /** Refuses further entries and turns the waiting commands away. */
  close(): void {
    this.closed = true;
    for (const turnAway of this.waiting.splice(0)) turnAway(false);
  }
}

/**
 * Runs `handle` for a received command once a handler slot is free. A command pulled ahead of its
 * handler (the worker's prefetch) waits with its ack deadline extended every `heartbeatMs`, so the
 * server does not redeliver it to another worker while it is held here; if the worker stops first, the
 * command is handed back for redelivery. `held` is told when a wait begins and returns what to call at
 * its end (the worker's metrics). Never rejects.
 */
export function whenAdmitted(gate: HandlerGate, heartbeatMs: number, handle: (msg: JsMsg) => Promise<void>, held: () => () => void = () => noop): (msg: JsMsg) => Promise<void> {
  const run = async (msg: JsMsg): Promise<void> => {
    try {
      await handle(msg);
    } finally {
      gate.leave();
    }
  };
  const runWhenAdmitted = async (msg: JsMsg): Promise<void> => {
    const heartbeat = startHeartbeat(msg, heartbeatMs);
    const waited = held();
    const admitted = await gate.enter();
    heartbeat.stop();
    waited();
    if (admitted) return run(msg);
    handBack(msg);
  };
  // A free handler (the usual case) runs the command at once, without a wait of its own.
  return (msg) => (gate.tryEnter() ? run(msg) : runWhenAdmitted(msg));
}

const noop = (): void => undefined;

/** Gives a command this worker will not handle back to the server for another worker. */
export function handBack(msg: JsMsg): void {
  try {
    msg.nak();
  } catch {
    // Connection closed: redelivered after the ack wait.
  }
}
