import { isRunning, stopChild, type Child } from './processes.js';

/**
 * What the demo must undo however it ends (done, failed, Ctrl-C): its child processes are stopped
 * first, all at once (SIGTERM, then SIGKILL after a grace period), then the other steps run, newest
 * first (the NATS server it started, its temporary directory).
 */
export class Shutdown {
  private readonly children = new Set<Child>();
  private readonly steps: (() => Promise<void> | void)[] = [];
  private readonly lastResorts: (() => void)[] = [];
  private running: Promise<void> | null = null;

  /** Whether shutting down has begun. */
  get closing(): boolean {
    return this.running !== null;
  }

  /** Stops `child` on shutdown (at once if shutdown has begun). */
  track(child: Child): void {
    if (this.closing) {
      void stopChild(child, 2000);
      return;
    }
    this.children.add(child);
    void child.exited.then(() => this.children.delete(child));
  }

  /**
   * Runs `step` on shutdown, after the children have stopped and before the steps added earlier.
   * `lastResort` (synchronous) is for {@link kill}: when there is no time to do it properly.
   */
  add(step: () => Promise<void> | void, lastResort?: () => void): void {
    this.steps.push(step);
    if (lastResort !== undefined) this.lastResorts.push(lastResort);
  }

  /** Runs the shutdown once; later calls wait for the same. Problems are reported, not thrown. */
  run(graceMs = 10_000): Promise<void> {
    this.running ??= (async () => {
      await Promise.all([...this.children].map((child) => stopChild(child, graceMs)));
      for (const step of this.steps.reverse()) {
        try {
          await step();
        } catch (error) {
          process.stderr.write(`demo: while shutting down: ${error instanceof Error ? error.message : String(error)}\n`);
        }
      }
    })();
    return this.running;
  }

  /** Kills every child at once and runs the last resorts (a second Ctrl-C; the process exiting). Synchronous. */
  kill(): void {
    for (const child of this.children) if (isRunning(child)) child.process.kill('SIGKILL');
    for (const lastResort of this.lastResorts.splice(0)) {
      try {
        lastResort();
      } catch {
        // Nothing more can be done.
      }
    }
  }
}
