import { createConnection, createServer, type Socket } from 'node:net';

/**
 * What the proxy does with the bytes of the connections through it:
 * - `pass`: forwards both ways;
 * - `dropRequests`: swallows what the client sends (a publish never reaches the server);
 * - `dropAnswers`: forwards what the client sends, swallows what the server answers (a publish is
 *   stored, its acknowledgement lost).
 */
export type ProxyMode = 'pass' | 'dropRequests' | 'dropAnswers';

/** A TCP proxy in front of a NATS server, to lose messages at an exact point. */
export interface NetworkFault {
  /** `nats://127.0.0.1:<proxy port>`. */
  readonly url: string;
  set(mode: ProxyMode): void;
  /** Cuts every connection through the proxy and passes bytes again: clients reconnect on clean streams. */
  heal(): void;
  close(): Promise<void>;
}

export async function startProxy(target: { readonly host: string; readonly port: number }): Promise<NetworkFault> {
  let mode: ProxyMode = 'pass';
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection({ host: target.host, port: target.port });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.on('data', (chunk) => {
      if (mode !== 'dropRequests') upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (mode !== 'dropAnswers') client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    url: `nats://127.0.0.1:${address.port}`,
    set: (next) => {
      mode = next;
    },
    heal() {
      for (const socket of sockets) socket.destroy();
      mode = 'pass';
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
