/** Resolves when the process is asked to stop (SIGINT or SIGTERM), for processes that serve until then. */
export const stopRequested = (): Promise<void> =>
  new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });

/**
 * Starts `worker`, prints `worker ready`, serves until SIGINT or SIGTERM, then stops the worker and runs
 * `after` in order (drain its connection, close a metrics server, flush traces).
 */
export async function serveUntilStopped(worker: { start(): Promise<void>; stop(): Promise<void> }, ...after: readonly (() => Promise<unknown>)[]): Promise<void> {
  await worker.start();
  process.stdout.write('worker ready\n');
  await stopRequested();
  await worker.stop();
  for (const step of after) await step();
}
