import type { Subscription } from '@nats-io/transport-node';
import type { InstanceSummary } from '@sagaflow/core';
import { instanceJson } from '@sagaflow/inspect';
import type { FastifyInstance } from 'fastify';
import type { ConsoleContext } from '../context.js';

/**
 * Live updates, as server-sent events: every status change the engines announce (`<ns>.evt.<saga>.<status>`)
 * goes to every open page as an `instance` event carrying the instance's row. One NATS subscription for
 * all pages; a comment every 15 s keeps proxies from closing an idle stream.
 */
export function liveRoutes(app: FastifyInstance, context: ConsoleContext): () => void {
  const pages = new Set<(chunk: string) => void>();
  let subscription: Subscription | null = null;
  const subscribe = (): void => {
    subscription ??= context.connection.subscribe(`${context.names.namespace}.evt.>`, {
      callback: (error, msg) => {
        if (error !== null || msg.subject.includes('._console.')) return;
        let row: InstanceSummary;
        try {
          row = msg.json<InstanceSummary>();
        } catch {
          return;
        }
        if (typeof row.instanceId !== 'string') return;
        const chunk = `event: instance\ndata: ${JSON.stringify(instanceJson(row))}\n\n`;
        for (const send of pages) send(chunk);
      },
    });
  };

  app.get('/api/live', (request, reply) => {
    subscribe();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    reply.raw.write(': live\n\n');
    const send = (chunk: string): void => void reply.raw.write(chunk);
    pages.add(send);
    const keepAlive = setInterval(() => reply.raw.write(': keep-alive\n\n'), 15_000);
    request.raw.on('close', () => {
      clearInterval(keepAlive);
      pages.delete(send);
    });
    return reply.hijack();
  });

  return () => {
    subscription?.unsubscribe();
    subscription = null;
    pages.clear();
  };
}
