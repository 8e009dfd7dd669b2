/**
 * `npm run demo` end to end, reduced in size, so it cannot rot: a full run against the test run's
 * NATS server, Ctrl-C against a nats-server the demo started itself, and no NATS at all.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { connectNats, naming } from '@sagaflow/nats';
import { accepts, freePort } from '../examples/demo/nats-server.js';
import { isRunning, spawnTs, type Child } from '../examples/demo/processes.js';

const dirs: string[] = [];
let demo: Child | null = null;
afterEach(async () => {
  if (demo !== null && isRunning(demo)) {
    demo.process.kill('SIGINT');
    await demo.exited;
  }
  demo = null;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Runs `examples/demo.ts` (what `npm run demo` runs) in a temporary directory. */
function runDemo(args: readonly string[], env: NodeJS.ProcessEnv): { child: Child; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sagaflow-demo-'));
  dirs.push(dir);
  demo = spawnTs('examples/demo.ts', ['--dir', dir, ...args], { env: { ...process.env, ...env } });
  return { child: demo, dir };
}

const summaryCount = (lines: readonly string[], label: string): number => {
  const line = lines.find((text) => text.trimStart().startsWith(`${label} `));
  return Number(/^\s*\S+\s+([\d,]+)/u.exec(line ?? '')?.[1]?.replace(/,/g, '') ?? Number.NaN);
};

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm run demo', () => {
  it('60 order sagas with a worker killed and restarted: exits 0, the summary adds up, the namespace is cleaned up', async () => {
    const natsUrl = inject('natsUrl');
    const { child, dir } = runDemo(['--count', '60', '--concurrency', '20'], { NATS_URL: natsUrl });
    expect(await child.exited, child.stderr.join('')).toBe(0);
    const out = child.lines;
    expect(out.some((line) => line.includes(`using the NATS server at ${natsUrl}`))).toBe(true);
    expect(out.some((line) => /killed the payment worker \(SIGKILL/u.test(line))).toBe(true);
    expect(out.some((line) => /restarted the payment worker/u.test(line))).toBe(true);
    const [completed, compensated, stuck] = ['completed', 'compensated', 'stuck'].map((label) => summaryCount(out, label));
    expect({ completed, compensated, stuck }).toEqual({ completed: 48, compensated: 12, stuck: 0 });
    expect(out).toContain('Every saga ended as its injected failures dictate.');
    expect(out.find((line) => line.trimStart().startsWith('latency'))).toMatch(/p50 [\d,]+ ms, p99 [\d,]+ ms/u);
    expect(out.find((line) => line.trimStart().startsWith('effects'))).toMatch(/^\s*effects\s+168 business changes .*each applied once/u);
    expect(out).toContain(`  npx sagaflow list --store sqlite:${join(dir, 'sagaflow.db')} --status compensated`);
    expect(existsSync(join(dir, 'sagaflow.db'))).toBe(true);

    // It leaves nothing in a server it did not start.
    const namespace = /namespace: (\S+)/u.exec(out.join('\n'))?.[1] ?? '';
    const connection = await connectNats({ url: natsUrl });
    try {
      const jsm = await jetstreamManager(connection);
      await expect(jsm.streams.info(naming(namespace).streams.commands)).rejects.toThrow(/not found/iu);
    } finally {
      await connection.close();
    }
  });

  it('with no server at NATS_URL it starts nats-server itself; Ctrl-C stops every process, removes the JetStream directory, exits 130', async () => {
    const { child } = runDemo(['--count', '2000', '--concurrency', '50'], { NATS_URL: `nats://127.0.0.1:${await freePort()}` });
    const started = await child.waitFor(/started nats-server -js on nats:\/\/127\.0\.0\.1:(\d+) \(JetStream in (\S+),/u);
    await child.waitFor(/^200\/2000 /u); // a tenth has finished
    const [, port, storeDir] = /:(\d+) \(JetStream in (\S+),/u.exec(started) ?? [];
    const pids = [...child.lines.join('\n').matchAll(/pid (\d+)/gu)].map((match) => Number(match[1]));
    expect(pids).toHaveLength(4); // engine and three workers
    expect(pids.every(alive)).toBe(true);

    child.process.kill('SIGINT');
    expect(await child.exited).toBe(130);
    expect(child.lines.some((line) => line.includes('Ctrl-C: stopping'))).toBe(true);
    expect(pids.filter(alive)).toEqual([]);
    expect(await accepts(Number(port))).toBe(false);
    expect(existsSync(storeDir ?? '/nonexistent')).toBe(false);
  });

  it('with no server and no nats-server binary it says how to get one and exits non-zero', async () => {
    const { child } = runDemo([], { NATS_URL: `nats://127.0.0.1:${await freePort()}`, NATS_SERVER_BIN: '/nonexistent/nats-server' });
    expect(await child.exited).toBe(1);
    const stderr = child.stderr.join('');
    expect(stderr).toMatch(/No NATS server answers at nats:\/\/127\.0\.0\.1:\d+, and nats-server is not installed/u);
    expect(stderr).toContain('apt-get install nats-server');
    expect(stderr).toContain('docker compose up -d nats');
  });
});
