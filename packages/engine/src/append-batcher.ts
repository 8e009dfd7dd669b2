import type { AppendRequest, AppendResult, EventStore, WrongExpectedRevisionError } from '@sagaflow/core';

type Waiter = {
  readonly request: AppendRequest;
  readonly resolve: (result: AppendResult | WrongExpectedRevisionError) => void;
  readonly reject: (error: unknown) => void;
};

/**
 * Groups appends of different instances into one store commit: while a commit is in progress,
 * the next appends queue up and go together in the following one. An append is acknowledged
 * only after its commit, so durability is unchanged; the cost of a commit is shared.
 *
 * With `fence`, each append is checked when its commit starts: one whose instance the engine no
 * longer decides for (a partition lost while it queued) is refused with what `fence` throws
 * (`NotOwnerError`) instead of being written.
 */
export class AppendBatcher {
  private queue: Waiter[] = [];
  private flushing = false;

  constructor(
    private readonly store: EventStore,
    private readonly fence?: (instanceId: string) => void,
    private readonly maxBatch = 500,
    /** Told how long each commit took, in seconds, and how many appends it carried. */
    private readonly onCommit?: (seconds: number, appends: number) => void,
  ) {}

  /** Appends one request; resolves with its result or the conflict error (not thrown). */
  append(request: AppendRequest): Promise<AppendResult | WrongExpectedRevisionError> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.fenced(this.queue.splice(0, this.maxBatch));
      if (batch.length === 0) continue;
      try {
        const began = this.onCommit === undefined ? 0 : performance.now();
        const results = await this.store.appendMany(batch.map((waiter) => waiter.request));
        this.onCommit?.((performance.now() - began) / 1000, batch.length);
        batch.forEach((waiter, index) => {
          const result = results[index];
          if (result === undefined) waiter.reject(new Error('Event store returned fewer results than requests'));
          else waiter.resolve(result);
        });
      } catch (error) {
        for (const waiter of batch) waiter.reject(error);
      }
    }
    this.flushing = false;
  }

  /** The waiters whose append passes the fence; the others are refused with the fence's error. */
  private fenced(batch: Waiter[]): Waiter[] {
    const { fence } = this;
    if (fence === undefined) return batch;
    return batch.filter((waiter) => {
      try {
        fence(waiter.request.instanceId);
        return true;
      } catch (error) {
        waiter.reject(error);
        return false;
      }
    });
  }
}
