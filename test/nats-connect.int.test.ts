import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterEach, describe, expect, it } from 'vitest';
import { connectNats, createNatsTransport, natsSettingsFromEnv, NatsUnavailableError } from '@sagaflow/nats';
import { freePort, startNatsServer, type NatsServer } from './support/nats-server.js';
import { sagaflowFromSources, spawnNode, stopChild } from './support/processes.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
const started = async (server: Promise<NatsServer>): Promise<NatsServer> => {
  const s = await server;
  cleanups.push(async () => {
    await s.stop();
    s.remove();
  });
  return s;
};

describe('connecting to NATS with credentials and TLS', () => {
  it('user and password: accepted when given, one clear error with the masked URL when wrong', async () => {
    const server = await started(startNatsServer({ args: ['--user', 'sagaflow', '--pass', 's3cret'] }));
    const connection = await connectNats({ url: server.url, user: 'sagaflow', password: 's3cret' });
    cleanups.push(() => connection.close());
    const transport = await createNatsTransport({ connection, namespace: 'authtest' });
    cleanups.push(() => transport.close());
    expect(transport.names.streams.commands).toBe('AUTHTEST_COMMANDS');

    const wrong = connectNats({ url: server.url.replace('nats://', 'nats://sagaflow:nope@') });
    await expect(wrong).rejects.toBeInstanceOf(NatsUnavailableError);
    await expect(wrong).rejects.toThrow(/^Cannot connect to NATS at nats:\/\/sagaflow:\*\*\*@127\.0\.0\.1:\d+: .*Authorization/iu);
  });

  it('TLS with a CA file: connects over tls://, and refuses a server it cannot verify', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sagaflow-tls-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert], {
      stdio: 'ignore',
    });
    const server = await started(startNatsServer({ args: ['--tls', '--tlscert', cert, '--tlskey', key], scheme: 'tls' }));
    const connection = await connectNats({ url: server.url, tls: { caFile: cert } });
    cleanups.push(() => connection.close());
    expect(connection.info?.tls_required).toBe(true);
    await expect(connectNats({ url: server.url })).rejects.toBeInstanceOf(NatsUnavailableError);
  });

  it('reads settings from the environment', () => {
    expect(natsSettingsFromEnv({ NATS_URL: 'nats://a:4222', NATS_USER: 'u', NATS_PASSWORD: 'p', NATS_CA: '/ca.pem' })).toEqual({
      url: 'nats://a:4222',
      user: 'u',
      password: 'p',
      tls: { caFile: '/ca.pem' },
    });
    expect(natsSettingsFromEnv({})).toEqual({});
  });

  it('sagaflow run against a NATS URL that does not answer: one line naming the URL, exit code 1', async () => {
    const port = await freePort();
    const run = spawnNode([...sagaflowFromSources, 'run', '--store', 'memory:', '--nats', `nats://127.0.0.1:${port}`]);
    expect(await run.exited).toBe(1);
    const stderr = run.stderr.join('').trim().split('\n');
    expect(stderr).toEqual([`sagaflow: Cannot connect to NATS at nats://127.0.0.1:${port}: connection refused. Start a server with JetStream (nats-server -js) or set NATS_URL.`]);
  });

  it('sagaflow run in a namespace whose subjects another stream holds: one line naming it, and the process exits (1)', async () => {
    const server = await started(startNatsServer());
    const connection = await connectNats({ url: server.url });
    cleanups.push(() => connection.close());
    await (await jetstreamManager(connection)).streams.add({ name: 'SQUATTER', subjects: ['taken.cmd.>'] });
    const run = spawnNode([...sagaflowFromSources, 'run', '--store', 'memory:', '--nats', server.url, '--namespace', 'taken']);
    cleanups.push(() => stopChild(run, 1_000));
    // A failed start must end the process: a supervisor restarts it, or shows it down.
    expect(await Promise.race([run.exited, new Promise((resolve) => setTimeout(resolve, 10_000, 'still running'))])).toBe(1);
    expect(run.stderr.join('').trim().split('\n')).toEqual([
      'sagaflow: NATS stream TAKEN_COMMANDS cannot take subjects taken.cmd.>: stream SQUATTER already holds them. ' +
        'Use another namespace, or remove that stream if nothing needs it.',
    ]);
  });
});
