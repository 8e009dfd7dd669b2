import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** Where and what a metrics server serves. */
export interface MetricsServerOptions {
  /** The registry `/metrics` exposes. */
  readonly registry: Registry;
  /** TCP port; 0 picks a free one (see {@link MetricsServer.url}). */
  readonly port: number;
  /** Address to bind (default 127.0.0.1: metrics stay on the host unless asked otherwise). */
  readonly host?: string;
  /** Why the process is not ready to take work, or `null` when it is: `/readyz` answers 503 with the reason, or 200. */
  readonly notReady?: () => string | null;
}

/** A running metrics server. */
export interface MetricsServer {
  /** `http://host:port` it listens on. */
  readonly url: string;
  close(): Promise<void>;
}

/** The metrics server could not start (the port is taken, the address is not this host's). */
export class MetricsServerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetricsServerError';
  }
}

/**
 * Serves `GET /metrics` (the Prometheus text format of `registry`), `GET /healthz` (200 while the
 * process answers) and `GET /readyz` (200 when `notReady` says nothing, 503 with its reason otherwise).
 * Node's own HTTP server: three fixed read-only routes need no framework.
 */
export async function serveMetrics(options: MetricsServerOptions): Promise<MetricsServer> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer((request, response) => void answer(request, response, options));
  server.keepAliveTimeout = 65_000; // longer than Prometheus' scrape interval: one connection per scraper
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const why =
        error.code === 'EADDRINUSE'
          ? `port ${options.port} on ${host} is in use: choose another --metrics-port`
          : error.code === 'EADDRNOTAVAIL'
            ? `${host} is not an address of this host: choose another --metrics-host`
            : error.message;
      reject(new MetricsServerError(`Cannot serve metrics: ${why}`));
    });
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function answer(request: IncomingMessage, response: ServerResponse, options: MetricsServerOptions): Promise<void> {
  const path = (request.url ?? '/').split('?')[0];
  if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, 'only GET\n', { allow: 'GET, HEAD' });
  switch (path) {
    case '/metrics':
      try {
        return send(response, 200, await options.registry.metrics(), { 'content-type': options.registry.contentType });
      } catch (error) {
        return send(response, 500, `metrics not collected: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    case '/healthz':
      return send(response, 200, 'ok\n');
    case '/readyz': {
      const why = options.notReady?.() ?? null;
      return why === null ? send(response, 200, 'ready\n') : send(response, 503, `not ready: ${why}\n`);
    }
    default:
      return send(response, 404, 'not found: try /metrics, /healthz or /readyz\n');
  }
}

function send(response: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  response.end(body);
}
