import type { NatsConnection } from '@nats-io/transport-node';
import type { EventStore, SagaRegistry } from '@sagaflow/core';
import { naming } from '@sagaflow/nats';
import { checkAccess, ConsoleConfigError, type Operator } from './access.js';
import { buildConsoleApp } from './app.js';

export { ConsoleConfigError, isLoopback, type Operator } from './access.js';
export { readUsersFile } from './users-file.js';

/** What the console runs on. */
export interface ConsoleOptions {
  /** The store to read: the engine's (its listing indexes and instance streams). */
  readonly store: EventStore;
  /** NATS, to reach the engines (repairs, health) and the dead letters. */
  readonly connection: NatsConnection;
  readonly namespace?: string;
  /** The saga definitions (from the saga files), for diagrams and the Sagas page; `null` without them. */
  readonly registry: SagaRegistry | null;
  /** Address to bind (default 127.0.0.1). Anything but loopback needs `token` or `users`. */
  readonly host?: string;
  /** Port (default 8233; 0 for any free one). */
  readonly port?: number;
  readonly token?: string;
  readonly users?: readonly Operator[];
  /** Show everything, change nothing. */
  readonly readOnly?: boolean;
  /** Where unexpected failures are reported (default: stderr). */
  readonly log?: (line: string) => void;
  /**
   * A link to an instance's trace in the team's tracing tool, with `{traceId}` where its id goes
   * (Jaeger: `http://jaeger:16686/trace/{traceId}`); without it the console shows the id alone.
   */
  readonly traceUrl?: string;
}

/** A console serving. */
export interface RunningConsole {
  /** `http://host:port/`. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves the console: the page and its API, on `host:port`.
 * @throws ConsoleConfigError for a non-loopback `host` without a token or users.
 */
export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const host = options.host ?? '127.0.0.1';
  const access = { host, token: options.token, users: options.users, readOnly: options.readOnly === true };
  checkAccess(access);
  checkTraceUrl(options.traceUrl);
  const log = options.log ?? ((line: string) => process.stderr.write(`sagaflow console: ${line}\n`));
  const names = naming(options.namespace);
  const { app, stop } = await buildConsoleApp(
    { store: options.store, connection: options.connection, names, registry: options.registry, access, ...(options.traceUrl === undefined ? {} : { traceUrl: options.traceUrl }) },
    log,
  );
  await app.listen({ host, port: options.port ?? 8233 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : (options.port ?? 8233);
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    async close() {
      stop();
      await app.close();
    },
  };
}

/** A trace link template must be an http(s) URL with `{traceId}` in it. */
function checkTraceUrl(template: string | undefined): void {
  if (template === undefined) return;
  let url: URL | null = null;
  try {
    url = new URL(template.replaceAll('{traceId}', '0'));
  } catch {
    url = null;
  }
  if (url === null || !['http:', 'https:'].includes(url.protocol) || !template.includes('{traceId}')) {
    throw new ConsoleConfigError(`The trace link "${template}" is not an http(s) URL with {traceId} in it (Jaeger: http://jaeger:16686/trace/{traceId})`);
  }
}
