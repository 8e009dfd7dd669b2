/**
 * A local npm registry for the install test: verdaccio, started on a free port with its storage
 * in a temporary directory. Sagaflow's packages are published to it from their tarballs, exactly
 * as a release publishes them; every other package is fetched through it from registry.npmjs.org.
 * A project then installs `sagaflow` by name, so the README's commands run as they are written.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { spawnNode, stopChild, type Child } from '../support/processes.js';
import { freePort } from '../support/nats-server.js';

const run = promisify(execFile);

/** A running local registry. */
export interface LocalRegistry {
  /** `http://127.0.0.1:PORT/`, for `npm_config_registry`. */
  readonly url: string;
  /** Publishes a tarball made by `npm pack` (as its own version; a version is published once). */
  publish(tarball: string, env: NodeJS.ProcessEnv): Promise<void>;
  stop(): Promise<void>;
}

const config = (storage: string, users: string): string => `storage: ${storage}
auth:
  htpasswd:
    file: ${users}
uplinks:
  npmjs:
    url: https://registry.npmjs.org/
    timeout: 60s
packages:
  'sagaflow':
    access: $all
    publish: $authenticated
  '@sagaflow/*':
    access: $all
    publish: $authenticated
  '**':
    access: $all
    proxy: npmjs
log: { type: stdout, format: pretty, level: error }
`;

/** Starts verdaccio with its storage under `dir` and a publishing user; resolves once it answers. */
export async function startLocalRegistry(dir: string): Promise<LocalRegistry> {
  mkdirSync(dir, { recursive: true });
  const configPath = join(dir, 'config.yaml');
  writeFileSync(configPath, config(join(dir, 'storage'), join(dir, 'htpasswd')));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const child: Child = spawnNode(['node_modules/verdaccio/bin/verdaccio', '--config', configPath, '--listen', `127.0.0.1:${port}`]);
  try {
    await answers(url, child);
    const token = await addUser(url);
    return {
      url,
      publish: async (tarball, env) => {
        await run('npm', ['publish', tarball, '--registry', url, `--//127.0.0.1:${port}/:_authToken=${token}`], { env });
      },
      stop: () => stopChild(child, 5_000),
    };
  } catch (error) {
    await stopChild(child, 1_000);
    throw error;
  }
}

async function answers(url: string, child: Child): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.process.exitCode !== null) throw new Error(`verdaccio exited: ${child.stderr.join('')}${child.lines.join('\n')}`);
    const ok = await fetch(new URL('-/ping', url)).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`verdaccio did not answer at ${url} in 30 s: ${child.stderr.join('')}`);
}

/** Registers a user (CouchDB's user API, which npm adduser uses) and returns its token. */
async function addUser(url: string): Promise<string> {
  const name = 'sagaflow-release';
  const response = await fetch(new URL(`-/user/org.couchdb.user:${name}`, url), {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password: `${name}-password` }),
  });
  const body = (await response.json()) as { token?: string; error?: string };
  if (!response.ok || body.token === undefined) throw new Error(`cannot add a user to verdaccio: ${response.status} ${body.error ?? ''}`);
  return body.token;
}
