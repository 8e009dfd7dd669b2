/**
 * The NATS server the demo uses: the one at `NATS_URL` (default nats://127.0.0.1:4222) if it
 * answers, else a `nats-server -js` child on a free port with a temporary JetStream directory,
 * else an explanation of how to get one.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, maskUrl, natsSettingsFromEnv } from '@sagaflow/nats';
import { NatsServerNotFoundError, natsServerBinary, startNatsServer, type NatsServer } from './nats-server.js';

/** A NATS server with JetStream the demo can use. */
export interface DemoNats {
  readonly url: string;
  /** The server this demo started, if it did; `null` when it uses one that was running. */
  readonly own: NatsServer | null;
  /** One line for the user: which server, and why. */
  readonly description: string;
}

/** No NATS server could be found or started; the message says what to do. */
export class NoNatsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoNatsError';
  }
}

/** What a connection attempt found within `timeoutMs`. */
async function probe(url: string, timeoutMs: number): Promise<'jetstream' | 'no-jetstream' | 'unreachable'> {
  const connecting = connectNats({ ...natsSettingsFromEnv(), url, name: 'sagaflow-demo-probe' });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs)));
  let connection: NatsConnection | null;
  try {
    connection = await Promise.race([connecting, timeout]);
  } catch {
    return 'unreachable';
  } finally {
    clearTimeout(timer);
  }
  if (connection === null) {
    void connecting.then((late) => late.close()).catch(() => undefined);
    return 'unreachable';
  }
  try {
    await jetstreamManager(connection, { checkAPI: true, timeout: timeoutMs });
    return 'jetstream';
  } catch {
    return 'no-jetstream';
  } finally {
    await connection.close();
  }
}

const howToGetOne = (url: string): string =>
  [
    `No NATS server answers at ${maskUrl(url)}, and nats-server is not installed (looked for "${natsServerBinary()}").`,
    'The demo needs NATS with JetStream. Any one of these will do, then run `npm run demo` again:',
    '  - install nats-server: apt-get install nats-server (Debian/Ubuntu), brew install nats-server (macOS),',
    '    or a release binary from https://github.com/nats-io/nats-server/releases (NATS_SERVER_BIN=/path/to/nats-server);',
    '  - start the one in docker-compose.yml: docker compose up -d nats   (listens on 127.0.0.1:4222);',
    '  - point NATS_URL at a server with JetStream: NATS_URL=nats://host:4222 npm run demo',
  ].join('\n');

/**
 * Finds or starts the server. `onStarting` receives the start of an own server at once, so it can
 * be stopped even if the demo is interrupted before it is ready.
 * @throws NoNatsError when there is none and none can be started, or the one at `NATS_URL` lacks JetStream.
 */
export async function natsForDemo(onStarting: (server: Promise<NatsServer>) => void): Promise<DemoNats> {
  const url = process.env.NATS_URL || 'nats://127.0.0.1:4222';
  const found = await probe(url, 1500);
  if (found === 'jetstream') return { url, own: null, description: `using the NATS server at ${maskUrl(url)}` };
  if (found === 'no-jetstream') {
    throw new NoNatsError(`The NATS server at ${maskUrl(url)} answers but has no JetStream: restart it with -js (nats-server -js), or set NATS_URL to one that has it.`);
  }
  const starting = startNatsServer({ detached: true });
  onStarting(starting);
  try {
    const own = await starting;
    return { url: own.url, own, description: `no server at ${maskUrl(url)}: started nats-server -js on ${own.url} (JetStream in ${own.storeDir}, removed on exit)` };
  } catch (error) {
    if (error instanceof NatsServerNotFoundError) throw new NoNatsError(howToGetOne(url));
    throw error;
  }
}
