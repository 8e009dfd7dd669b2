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
 */
export class AppendBatcher {
  private queue: Waiter[] = [];
  private flushing = false;

  constructor(
    private readonly store: EventStore,
    private readonly maxBatch = 500,
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
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        const results = await this.store.appendMany(batch.map((waiter) => waiter.request));
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
}
