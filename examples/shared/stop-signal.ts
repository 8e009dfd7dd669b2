/** Resolves when the process is asked to stop (SIGINT or SIGTERM), for processes that serve until then. */
export const stopRequested = (): Promise<void> =>
  new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
