import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerAccess } from './access.js';
import type { ConsoleContext } from './context.js';
import { deadLetterRoutes } from './routes/dead-letters.js';
import { instanceRoutes } from './routes/instances.js';
import { liveRoutes } from './routes/live.js';
import { overviewRoutes } from './routes/overview.js';
import { sagaRoutes } from './routes/sagas.js';

/** Where the built page is: beside the compiled server (`dist/ui`), or, running from the sources, in `dist/ui` of the package. */
export function pageDirectory(): string | null {
  for (const candidate of ['./ui/', '../dist/ui/']) {
    const dir = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  return null;
}

const notBuilt = `<!doctype html><title>Sagaflow console</title><p>The console's page was not built: run <code>npm run build</code> (it builds the page with Vite into <code>packages/console/dist/ui</code>).</p>`;

/**
 * The console's HTTP server (Fastify): the built page, and the JSON API it reads (`/api/…`). Errors are
 * one line of JSON with a tag and a status (400 for a malformed request, 404, 409 for a refused repair,
 * 503 without an engine), never a stack trace; the server logs the unexpected ones.
 */
export async function buildConsoleApp(context: ConsoleContext, log: (line: string) => void): Promise<{ app: FastifyInstance; stop: () => void }> {
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024, routerOptions: { maxParamLength: 400 } });
  app.addHook('onSend', async (_request, reply) => {
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('x-frame-options', 'DENY');
    void reply.header('referrer-policy', 'no-referrer');
    void reply.header('content-security-policy', "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'");
  });
  app.setErrorHandler(async (error: { statusCode?: number; message?: string; code?: string }, request, reply) => {
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) log(`${request.method} ${request.url}: ${error.message ?? 'unknown error'}`);
    const tag = status === 403 && error.code?.includes('CSRF') === true ? 'CsrfRefused' : status === 500 ? 'InternalError' : 'BadRequest';
    const message = tag === 'CsrfRefused' ? 'Refused: the request carries no valid CSRF token (reload the page)' : status === 500 ? 'The console failed to answer; see its log' : (error.message ?? 'Bad request');
    await reply.code(status).send({ error: { tag, message } });
  });
  await registerAccess(app, context.access);
  instanceRoutes(app, context);
  deadLetterRoutes(app, context);
  overviewRoutes(app, context);
  sagaRoutes(app, context);
  const stopLive = liveRoutes(app, context);

  const pages = pageDirectory();
  if (pages !== null) await app.register(fastifyStatic, { root: pages, index: ['index.html'] });
  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (path.startsWith('/api/') || path.startsWith('/assets/')) return reply.code(404).send({ error: { tag: 'NotFound', message: `No ${request.method} ${path}` } });
    // The page's own routes (/instances/…): the page, which reads its route from the address.
    if (pages === null) return reply.type('text/html').send(notBuilt);
    return reply.sendFile('index.html');
  });
  return { app, stop: stopLive };
}
