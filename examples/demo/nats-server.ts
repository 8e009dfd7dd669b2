import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A `nats-server -js` child process owned by a test run or the demo. */
export interface NatsServer {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** Stops the server gracefully (SIGTERM) and waits for it. */
  stop(): Promise<void>;
  /** Kills the server at once (SIGKILL), keeping its store directory. */
  kill(): Promise<void>;
  /** Removes the store directory (when this launcher created it). */
  remove(): void;
}

const installHint =
  'nats-server was not found. Install it (Debian/Ubuntu: apt-get install nats-server; macOS: brew install nats-server; ' +
  'or a release binary from the NATS project), set NATS_SERVER_BIN to its path, or set NATS_URL to use a running server with JetStream.';

/** The `nats-server` binary is not installed (neither `NATS_SERVER_BIN` nor on the PATH). */
export class NatsServerNotFoundError extends Error {
  constructor(readonly binary: string) {
    super(installHint);
    this.name = 'NatsServerNotFoundError';
  }
}

/** The binary to start: `NATS_SERVER_BIN`, else `nats-server` from the PATH. */
export const natsServerBinary = (): string => process.env.NATS_SERVER_BIN ?? 'nats-server';

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Whether something accepts TCP connections on a local port. */
export const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/**
 * Starts `nats-server -js` on a free (or given) port with a temporary (or given) store directory.
 * `detached` puts it in its own process group, so a Ctrl-C in the terminal leaves it to its owner
 * to stop once the clients are done.
 * @throws NatsServerNotFoundError when the binary is not installed.
 */
export async function startNatsServer(
  options: { readonly port?: number; readonly storeDir?: string; readonly args?: readonly string[]; readonly scheme?: string; readonly detached?: boolean } = {},
): Promise<NatsServer> {
  const port = options.port ?? (await freePort());
  const ownDir = options.storeDir === undefined;
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), 'sagaflow-nats-'));
  const binary = natsServerBinary();
  const child: ChildProcess = spawn(binary, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir, ...(options.args ?? [])], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: options.detached === true,
  });
  let output = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output = (output + chunk).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let settled = false;
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'ENOENT' ? new NatsServerNotFoundError(binary) : new Error(`nats-server failed to start: ${error.message}`)));
    void exited.then(() => reject(new Error(`nats-server exited during start-up:\n${output}`)));
  });
  const ready = (async () => {
    for (let i = 0; i < 200 && !settled; i++) {
      if (await accepts(port)) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`nats-server did not accept connections on port ${port} within 5 s:\n${output}`);
  })();
  try {
    await Promise.race([ready, failed]);
  } catch (error) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) child.kill('SIGKILL');
    if (ownDir) rmSync(storeDir, { recursive: true, force: true });
    throw error;
  } finally {
    settled = true;
    ready.catch(() => undefined);
    failed.catch(() => undefined);
  }
  const terminate = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    url: `${options.scheme ?? 'nats'}://127.0.0.1:${port}`,
    port,
    storeDir,
    stop: () => terminate('SIGTERM'),
    kill: () => terminate('SIGKILL'),
    remove: () => {
      if (ownDir) rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
