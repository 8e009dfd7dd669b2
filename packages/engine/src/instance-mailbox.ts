/**
 * Runs the work for one instance one piece at a time, in arrival order; different instances
 * run concurrently.
 */
export class InstanceMailbox {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(instanceId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(instanceId) ?? Promise.resolve();
    const result = previous.then(work, work);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(instanceId, tail);
    void tail.then(() => {
      if (this.tails.get(instanceId) === tail) this.tails.delete(instanceId);
    });
    return result;
  }

  /** Resolves when no work is queued for the instances `belongs` selects. */
  async idleWhere(belongs: (instanceId: string) => boolean): Promise<void> {
    for (;;) {
      const tails = [...this.tails].filter(([instanceId]) => belongs(instanceId)).map(([, tail]) => tail);
      if (tails.length === 0) return;
      await Promise.all(tails);
    }
  }

  /** Resolves when no work is queued. */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all(this.tails.values());
  }
}
