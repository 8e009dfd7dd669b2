/**
 * The console's HTTP surface, as the real `sagaflow ui` process serves it over a real SQLite store and
 * nats-server: access (loopback without a token; any other bind refused without one, 401 without it),
 * CSRF on every change, read-only, clear 400/404 answers for malformed requests (never a stack trace),
 * and no store or NATS address ever sent to the browser.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createRegistry } from '@sagaflow/core';
import { createInProcessTransport, Engine } from '@sagaflow/engine';
import { openSqliteEventStore } from '@sagaflow/store-sqlite';
import cliRepair from '../fixtures/cli-sagas/cli-repair.saga.js';
import { cliEnv, sagaflow } from '../support/cli.js';
import { sagaflowFromSources, spawnNode, stopChild, type Child } from '../support/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'sagaflow-console-http-'));
const storeUrl = `sqlite:${join(dir, 'sagaflow.db')}`;
const namespace = `console${Math.random().toString(36).slice(2, 8)}`;
const consoles: Child[] = [];

beforeAll(async () => {
  // A few instances, made by an engine in this process.
  const store = openSqliteEventStore(join(dir, 'sagaflow.db'));
  const transport = createInProcessTransport();
  transport.register('reserve', () => Promise.resolve({ ok: true, reply: { reservationId: 'r' } }));
  transport.register('charge', () => Promise.resolve({ ok: true, reply: { paymentId: 'p' } }));
  const engine = new Engine({ store, registry: createRegistry([cliRepair]), transport, log: { info: () => undefined, warn: () => undefined, error: () => undefined } });
  await engine.start();
  for (const key of ['a-1', 'a-2', 'b-1']) expect(E.isRight(await engine.startSaga('cli-repair', key, { key, charge: 'ok', compensationFails: false }))).toBe(true);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await engine.stop();
  await store.close();
});

afterAll(async () => {
  await Promise.all(consoles.map((child) => stopChild(child)));
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `sagaflow ui` on a free port; its base URL. */
async function ui(args: readonly string[] = [], env: NodeJS.ProcessEnv = cliEnv()): Promise<string> {
  const child = spawnNode([...sagaflowFromSources, 'ui', '--store', storeUrl, '--nats', inject('natsUrl'), '--namespace', namespace, '--sagas', 'test/fixtures/cli-sagas', '--port', '0', ...args], env);
  consoles.push(child);
  const ready = await child.waitFor(/^console ready: /u, 30_000);
  return /(http:\/\/\S+\/)/u.exec(ready)?.[1] ?? '';
}

/** A browser's cookie jar, enough for the console's session and CSRF cookies. */
class Visitor {
  private readonly cookies = new Map<string, string>();
  constructor(private readonly base: string) {}

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown>; text: string }> {
    const response = await fetch(new URL(path, this.base), {
      method,
      headers: {
        cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; '),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const at = pair.indexOf('=');
      this.cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
    const text = await response.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // the page, not JSON
    }
    return { status: response.status, json, text };
  }

  /** Reads the session (and its CSRF token), then signs in. */
  async signIn(name: string, token?: string): Promise<string> {
    const session = await this.request('GET', '/api/session');
    const csrf = String(session.json.csrfToken);
    const signed = await this.request('POST', '/api/session', { name, ...(token === undefined ? {} : { token }) }, { 'x-csrf-token': csrf });
    expect(signed.status, signed.text).toBe(200);
    return String(signed.json.csrfToken);
  }
}

const noStack = (text: string): void => {
  expect(text).not.toMatch(/\bat \S+ \(|\.ts:\d+|node_modules/u);
};

describe('sagaflow ui, over HTTP', () => {
  it('on loopback without a token: lists and shows instances; malformed requests get one clear 400 or 404', async () => {
    const visitor = new Visitor(await ui());
    const session = await visitor.request('GET', '/api/session');
    expect(session.json).toMatchObject({ operator: null, tokenRequired: false, readOnly: false });

    const listed = await visitor.request('GET', '/api/instances?saga=cli-repair&prefix=a-');
    expect(listed.status).toBe(200);
    expect((listed.json.instances as { instanceId: string }[]).map((row) => row.instanceId).sort()).toEqual(['a-1', 'a-2']);
    const shown = await visitor.request('GET', '/api/instances/a-1');
    expect(shown.status).toBe(200);
    expect(shown.json).toMatchObject({ instance: { instanceId: 'a-1', status: 'completed' }, definitionKnown: true });
    expect(shown.json.diagram).toEqual([
      { kind: 'step', step: { name: 'reserve', compensation: 'release', state: 'done', attempts: 1, compensationAttempts: 0 } },
      { kind: 'step', step: { name: 'charge', compensation: null, state: 'done', attempts: 1, compensationAttempts: 0 } },
    ]);

    const cases: [string, number, string][] = [
      ['/api/instances?status=bogus', 400, 'Unknown status "bogus": use pending, running, compensating, completed, compensated, cancelled, stuck'],
      ['/api/instances?changedFrom=yesterday', 400, 'changedFrom takes a time such as 2026-12-06T10:00:00Z, not "yesterday"'],
      ['/api/instances?limit=100000', 400, 'limit must be an integer from 1 to 500, not "100000"'],
      ['/api/instances?after=nope', 400, 'after takes a cursor "<epoch ms>:<instance id>" as printed by list, not "nope"'],
      [`/api/instances/${'x'.repeat(301)}`, 400, 'An instance id has 1 to 300 characters'],
      ['/api/instances/no-such-instance', 404, 'No saga instance "no-such-instance"'],
      ['/api/dead-letters/abc', 400, 'A dead letter is named by its sequence number, not "abc"'],
      ['/api/overview?minutes=0', 400, 'minutes takes a whole number from 5 to 1440, not "0"'],
      ['/api/nothing-here', 404, 'No GET /api/nothing-here'],
    ];
    for (const [path, status, message] of cases) {
      const answer = await visitor.request('GET', path);
      expect({ path, status: answer.status, message: (answer.json.error as { message?: string } | undefined)?.message }).toEqual({ path, status, message });
      noStack(answer.text);
    }
  });

  it('a change needs the CSRF token and a signed-in operator; read-only refuses every change', async () => {
    const base = await ui();
    const visitor = new Visitor(base);
    await visitor.request('GET', '/api/session');
    const withoutCsrf = await visitor.request('POST', '/api/instances/a-1/retry', { reason: 'no token' });
    expect(withoutCsrf.status).toBe(403);
    expect(withoutCsrf.json.error).toEqual({ tag: 'CsrfRefused', message: 'Refused: the request carries no valid CSRF token (reload the page)' });
    const csrf = String((await visitor.request('GET', '/api/session')).json.csrfToken);
    const anonymous = await visitor.request('POST', '/api/instances/a-1/retry', { reason: 'nobody' }, { 'x-csrf-token': csrf });
    expect(anonymous.status).toBe(401);
    const signed = await visitor.signIn('alice');
    const noReason = await visitor.request('POST', '/api/instances/a-1/retry', { reason: '  ' }, { 'x-csrf-token': signed });
    expect(noReason).toMatchObject({ status: 400, json: { error: { message: 'Give a reason (1 to 500 characters): it is recorded with the repair' } } });
    const badAction = await visitor.request('POST', '/api/instances/a-1/explode', { reason: 'x' }, { 'x-csrf-token': signed });
    expect(badAction.status).toBe(404);
    // No engine runs in this namespace: the repair cannot be made, and says so.
    const noEngine = await visitor.request('POST', '/api/instances/a-1/retry', { reason: 'try' }, { 'x-csrf-token': signed });
    expect(noEngine).toMatchObject({ status: 503, json: { error: { tag: 'NoEngine' } } });
    // Another site's page cannot borrow the session: without the header the cookie alone is refused.
    expect((await visitor.request('POST', '/api/instances/a-1/abort', { reason: 'forged' })).status).toBe(403);

    const readOnly = new Visitor(await ui(['--read-only']));
    expect((await readOnly.request('GET', '/api/session')).json.readOnly).toBe(true);
    const csrfReadOnly = await readOnly.signIn('bob');
    const refused = await readOnly.request('POST', '/api/instances/a-1/retry', { reason: 'x' }, { 'x-csrf-token': csrfReadOnly });
    expect(refused).toMatchObject({ status: 403, json: { error: { tag: 'ReadOnly' } } });
  });

  it('a bind beyond loopback is refused without a token; with one, nothing answers before signing in with it', async () => {
    const refused = await sagaflow(['ui', '--store', storeUrl, '--nats', inject('natsUrl'), '--namespace', namespace, '--host', '0.0.0.0', '--port', '0']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('sagaflow: Binding 0.0.0.0 opens the console to other machines: give --token TOKEN (or --users FILE), or bind 127.0.0.1');

    const token = 'a-long-random-token-for-the-test';
    const base = await ui(['--host', '0.0.0.0'], cliEnv({ SAGAFLOW_CONSOLE_TOKEN: token }));
    const local = base.replace('0.0.0.0', '127.0.0.1');
    const stranger = new Visitor(local);
    const denied = await stranger.request('GET', '/api/instances');
    expect(denied).toMatchObject({ status: 401, json: { error: { tag: 'Unauthorized' } } });
    expect((await stranger.request('GET', '/api/engines')).status).toBe(401);
    const csrf = String((await stranger.request('GET', '/api/session')).json.csrfToken);
    expect((await stranger.request('POST', '/api/session', { name: 'mallory', token: 'guess' }, { 'x-csrf-token': csrf })).status).toBe(401);

    const operator = new Visitor(local);
    await operator.signIn('carol', token);
    expect((await operator.request('GET', '/api/session')).json.operator).toBe('carol');
    expect((await operator.request('GET', '/api/instances')).status).toBe(200);
    expect((await new Visitor(local).request('GET', '/api/instances', undefined, { authorization: `Bearer ${token}` })).status).toBe(200);
  });

  it('sagaflow run --ui serves the console from the engine\'s own process', async () => {
    const engine = spawnNode([...sagaflowFromSources, 'run', '--store', storeUrl, '--nats', inject('natsUrl'), '--namespace', `${namespace}run`, '--sagas', 'test/fixtures/cli-sagas', '--ui', '--ui-port', '0']);
    consoles.push(engine);
    const ready = await engine.waitFor(/console ready: /u, 30_000);
    const visitor = new Visitor(/(http:\/\/\S+\/)/u.exec(ready)?.[1] ?? '');
    await engine.waitFor(/engine ready/u, 30_000);
    const engines = await visitor.request('GET', '/api/engines');
    expect(engines.status).toBe(200);
    expect(engines.json).toMatchObject({ namespace: `${namespace}run`, answering: { sagas: ['cli-repair@1'] }, problem: null });
    expect((await sagaflow(['run', '--ui-port', '1'])).stderr).toContain('--ui-host, --ui-port, --ui-token, --ui-users, --ui-read-only and --ui-trace-url go with --ui');
  });

  it('never sends the store\'s or NATS\'s address to the browser', async () => {
    const visitor = new Visitor(await ui());
    const texts = await Promise.all(['/', '/instances/a-1', '/api/session', '/api/engines', '/api/overview', '/api/sagas', '/api/instances', '/api/instances/a-1'].map(async (path) => (await visitor.request('GET', path)).text));
    for (const text of texts) {
      expect(text).not.toContain('sqlite:');
      expect(text).not.toContain(dir);
      expect(text).not.toContain('nats://');
      expect(text).not.toContain(inject('natsUrl').replace('nats://', ''));
    }
  });
});
