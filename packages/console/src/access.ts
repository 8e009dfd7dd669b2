import { randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';

/** An operator allowed in by a token of their own (a users file). */
export interface Operator {
  readonly name: string;
  readonly token: string;
}

/** Who may use the console, and how. */
export interface AccessSettings {
  /** The address the console binds. */
  readonly host: string;
  /** One token shared by every operator (each gives their name when they sign in). */
  readonly token?: string | undefined;
  /** Operators with a token each. */
  readonly users?: readonly Operator[] | undefined;
  /** Show everything, change nothing. */
  readonly readOnly: boolean;
}

/** The console cannot start with these settings. */
export class ConsoleConfigError extends Error {
  readonly _tag = 'ConsoleConfig';
  constructor(message: string) {
    super(message);
    this.name = 'ConsoleConfigError';
  }
}

/** Whether an address reaches this machine only. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

const requiresToken = (settings: AccessSettings): boolean => settings.token !== undefined || (settings.users?.length ?? 0) > 0;

/**
 * Refuses settings that would open the console to the network without a token: a non-loopback bind
 * needs `--token` or a users file.
 * @throws ConsoleConfigError naming what to add.
 */
export function checkAccess(settings: AccessSettings): void {
  if (settings.token === '') throw new ConsoleConfigError('--token is empty: give a long random token (openssl rand -hex 24)');
  if (!isLoopback(settings.host) && !requiresToken(settings)) {
    throw new ConsoleConfigError(`Binding ${settings.host} opens the console to other machines: give --token TOKEN (or --users FILE), or bind 127.0.0.1`);
  }
}

const sessionCookie = 'sagaflow_operator';

const sameToken = (given: string, expected: string): boolean => {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in operator's name, or null. */
    operator: string | null;
  }
}

/** What the console says about the visitor. */
export interface SessionView {
  readonly operator: string | null;
  /** Signing in needs a token (else only a name). */
  readonly tokenRequired: boolean;
  readonly readOnly: boolean;
  /** The token to send in the `x-csrf-token` header with every change. */
  readonly csrfToken: string;
}

/**
 * Sessions, sign-in and CSRF protection. A visitor signs in with a name (and the token, when one is
 * required); the name is kept in a signed, HTTP-only cookie and recorded as `by` with every repair.
 * Without a token (loopback only) a name is enough. API calls may also carry `Authorization: Bearer TOKEN`.
 * Every change is a POST carrying the CSRF token the session handed out (double-submit, signed cookie).
 */
export async function registerAccess(app: FastifyInstance, settings: AccessSettings): Promise<void> {
  await app.register(cookie, { secret: randomBytes(32).toString('hex') });
  await app.register(csrf, { cookieOpts: { signed: true, httpOnly: true, sameSite: 'strict', path: '/' } });
  app.decorateRequest('operator', null);

  const operatorOfToken = (token: string): string | null => {
    const user = settings.users?.find((candidate) => sameToken(token, candidate.token));
    if (user !== undefined) return user.name;
    return settings.token !== undefined && sameToken(token, settings.token) ? 'token' : null;
  };

  app.addHook('onRequest', async (request, reply) => {
    const signed = request.cookies[sessionCookie];
    const unsigned = signed === undefined ? null : request.unsignCookie(signed);
    request.operator = unsigned?.valid === true ? unsigned.value : null;
    const bearer = /^Bearer (.+)$/u.exec(request.headers.authorization ?? '')?.[1];
    if (bearer !== undefined) request.operator = operatorOfToken(bearer);
    const open = !request.url.startsWith('/api/') || request.url.startsWith('/api/session');
    if (requiresToken(settings) && request.operator === null && !open) {
      await reply.code(401).send({ error: { tag: 'Unauthorized', message: 'Sign in first: this console needs a token' } });
    }
  });

  const view = (request: FastifyRequest, reply: FastifyReply): SessionView => ({
    operator: request.operator,
    tokenRequired: requiresToken(settings),
    readOnly: settings.readOnly,
    csrfToken: reply.generateCsrf(),
  });

  app.get('/api/session', (request, reply) => view(request, reply));

  app.post<{ Body: { name?: unknown; token?: unknown } }>('/api/session', { onRequest: csrfChecked(app) }, async (request, reply) => {
    const body = request.body ?? {};
    const token = typeof body.token === 'string' ? body.token : '';
    const typed = typeof body.name === 'string' ? body.name.trim() : '';
    let name: string | null = typed;
    if (requiresToken(settings)) {
      const known = operatorOfToken(token);
      if (known === null) return reply.code(401).send({ error: { tag: 'Unauthorized', message: 'Wrong token' } });
      if (known !== 'token') name = known;
    }
    if (name === null || name === '' || name.length > 80) {
      return reply.code(400).send({ error: { tag: 'BadRequest', message: 'Give your name (1 to 80 characters): it is recorded with every repair you make' } });
    }
    void reply.setCookie(sessionCookie, name, { signed: true, httpOnly: true, sameSite: 'strict', path: '/' });
    request.operator = name;
    return view(request, reply);
  });

  app.delete('/api/session', { onRequest: csrfChecked(app) }, (request, reply) => {
    void reply.clearCookie(sessionCookie, { path: '/' });
    request.operator = null;
    return view(request, reply);
  });
}

/** The CSRF check of a change (the token the session handed out, in the `x-csrf-token` header). */
export function csrfChecked(app: FastifyInstance): onRequestHookHandler {
  return (request, reply, done) => app.csrfProtection(request, reply, done);
}

/** Refuses a change unless the visitor is signed in and the console is not read-only; `by` is their name. */
export function changer(settings: AccessSettings) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (settings.readOnly) await reply.code(403).send({ error: { tag: 'ReadOnly', message: 'This console is read-only (--read-only): it changes nothing' } });
    else if (request.operator === null) await reply.code(401).send({ error: { tag: 'Unauthorized', message: 'Sign in with your name first: it is recorded with every repair' } });
  };
}
