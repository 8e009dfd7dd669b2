import { createServer, connect as tcpConnect, type AddressInfo, type Socket } from 'node:net';

/** A TCP forwarder to a NATS server, in front of one of the test's connections. */
export interface DelayingProxy {
  /** The URL to connect to instead of the server's. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A test double of a slow network: forwards TCP connections to the NATS server at `target`, passing what
 * a client sends at once and holding what the server sends for `delayMs` (in order) before passing it on.
 * A message the server has sent is thus on its way for that long, however fast the machine.
 */
export async function delayingProxy(target: string, delayMs: number): Promise<DelayingProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = tcpConnect(Number(port), hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => setTimeout(() => client.destroyed || client.write(chunk), delayMs));
    upstream.on('close', () => setTimeout(() => client.destroy(), delayMs));
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: local } = server.address() as AddressInfo;
  return {
    url: `nats://127.0.0.1:${local}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
