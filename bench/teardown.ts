/** The end of a bench entry point: say what failed, then stop what it started and remove its files. */
import { rmSync } from 'node:fs';
import { NatsServerNotFoundError, type NatsServer } from '../examples/demo/nats-server.js';
import { stopChild, type Child } from '../examples/demo/processes.js';

/**
 * Prints the error and the last of each child's stderr, where the cause usually is. A missing
 * nats-server is a set-up problem whose message says what to do: it gets that line, without a stack.
 */
export function reportFailure(error: unknown, children: readonly Child[]): void {
  if (error instanceof NatsServerNotFoundError) console.error(`bench: ${error.message}`);
  else console.error(error);
  for (const child of children) if (child.stderr.length > 0) console.error(child.stderr.join('').slice(-2000));
}

/** Stops the children (newest first) and the bench's own nats-server, and removes its directory. */
export async function tearDown(children: Child[], nats: NatsServer | null, dir: string): Promise<void> {
  for (const child of children.reverse()) await stopChild(child, 5000);
  await nats?.stop();
  nats?.remove();
  rmSync(dir, { recursive: true, force: true });
}
