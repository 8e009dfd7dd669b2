/**
 * A pool of slots shared by a worker's operations: at most `size` commands are requested, held for a
 * handler or in progress at once. Closing it wakes every waiter with nothing.
 */
export class Slots {
  private free: number;
  private closed = false;
  private readonly waiters: (() => void)[] = [];

  constructor(readonly size: number) {
    this.free = size;
  }

  /** Waits for at least one free slot, then takes up to `max`; resolves to 0 once closed. */
  async acquire(max: number): Promise<number> {
    while (!this.closed && this.free === 0) await new Promise<void>((resolve) => this.waiters.push(resolve));
    if (this.closed) return 0;
    const granted = Math.min(this.free, max);
    this.free -= granted;
    return granted;
  }

  /** Gives back `count` slots. */
  release(count: number): void {
    if (count <= 0) return;
    this.free += count;
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Refuses further acquisitions and wakes the waiters. */
  close(): void {
    this.closed = true;
    for (const wake of this.waiters.splice(0)) wake();
  }
}
