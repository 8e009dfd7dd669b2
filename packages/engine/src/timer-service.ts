/** Longest delay Node's setTimeout accepts; longer timers are re-armed in hops. */
const maxDelayMs = 2 ** 31 - 1;

/** The clock the engine reads; injected so tests and replays control time. */
export interface Clock {
  now(): number;
}

/** Wall-clock time. */
export const systemClock: Clock = { now: () => Date.now() };

/**
 * Arms in-memory timers for durable timers recorded in the event log. The log is the truth:
 * on start the engine re-arms every timer its instances still wait for.
 */
export class TimerService {
  private readonly armed = new Map<string, { readonly instanceId: string; readonly handle: ReturnType<typeof setTimeout> }>();

  constructor(
    private readonly clock: Clock,
    private readonly fire: (instanceId: string, timerId: string) => void,
  ) {}

  /** Arms (or re-arms) a timer due at `dueAt` (epoch ms); a due time in the past fires at once. */
  arm(instanceId: string, timerId: string, dueAt: number): void {
    this.disarm(timerId);
    const delay = Math.max(0, dueAt - this.clock.now());
    const handle = setTimeout(
      () => {
        this.armed.delete(timerId);
        if (dueAt - this.clock.now() > 0) this.arm(instanceId, timerId, dueAt);
        else this.fire(instanceId, timerId);
      },
      Math.min(delay, maxDelayMs),
    );
    this.armed.set(timerId, { instanceId, handle });
  }

  disarm(timerId: string): void {
    const armed = this.armed.get(timerId);
    if (armed !== undefined) clearTimeout(armed.handle);
    this.armed.delete(timerId);
  }

  /** Disarms the timers of the instances `belongs` selects (their partition went to another engine). */
  disarmWhere(belongs: (instanceId: string) => boolean): void {
    for (const [timerId, { instanceId, handle }] of this.armed) {
      if (!belongs(instanceId)) continue;
      clearTimeout(handle);
      this.armed.delete(timerId);
    }
  }

  /** Number of armed timers. */
  get size(): number {
    return this.armed.size;
  }

  stop(): void {
    for (const { handle } of this.armed.values()) clearTimeout(handle);
    this.armed.clear();
  }
}
