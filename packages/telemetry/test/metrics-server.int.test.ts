/**
 * The metrics server over real HTTP, and the logger's lines as a log shipper reads them (a child
 * process whose output is a pipe, as under a supervisor).
 */
import { spawnSync } from 'node:child_process';
import { Counter } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetricsRegistry, MetricsServerError, serveMetrics, type MetricsServer } from '../src/index.js';

const servers: MetricsServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

describe('serveMetrics', () => {
  it('serves the registry in the Prometheus text format, /healthz, /readyz with the reason it is not ready, and says what it does not serve', async () => {
    const registry = createMetricsRegistry();
    new Counter({ name: 'sagaflow_test_total', help: 'test', registers: [registry] }).inc(3);
    let why: string | null = 'recovering instances';
    const server = await serveMetrics({ registry, port: 0, notReady: () => why });
    servers.push(server);
    const metrics = await fetch(`${server.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/u);
    const text = await metrics.text();
    expect(text).toMatch(/^sagaflow_test_total 3$/mu);
    expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds /mu);
    expect(text).toMatch(/^process_cpu_seconds_total /mu);
    expect(await fetch(`${server.url}/healthz`).then(async (r) => [r.status, await r.text()])).toEqual([200, 'ok\n']);
    expect(await fetch(`${server.url}/readyz`).then(async (r) => [r.status, await r.text()])).toEqual([503, 'not ready: recovering instances\n']);
    why = null;
    expect(await fetch(`${server.url}/readyz`).then(async (r) => [r.status, await r.text()])).toEqual([200, 'ready\n']);
    expect(await fetch(`${server.url}/nope`).then(async (r) => [r.status, await r.text()])).toEqual([404, 'not found: try /metrics, /healthz or /readyz\n']);
    expect(await fetch(`${server.url}/metrics`, { method: 'POST' }).then((r) => [r.status, r.headers.get('allow')])).toEqual([405, 'GET, HEAD']);
  });

  it('refuses a port in use with a MetricsServerError naming the port and the option', async () => {
    const first = await serveMetrics({ registry: createMetricsRegistry({ defaultMetrics: false }), port: 0 });
    servers.push(first);
    const port = Number(new URL(first.url).port);
    const second = serveMetrics({ registry: createMetricsRegistry({ defaultMetrics: false }), port });
    await expect(second).rejects.toBeInstanceOf(MetricsServerError);
    await expect(second).rejects.toThrow(`Cannot serve metrics: port ${port} on 127.0.0.1 is in use: choose another --metrics-port`);
  });
});

describe('createLogger', () => {
  it('off a terminal: one JSON object per line, info on stdout, warnings on stderr, with the fields of the instance; below the level, nothing', () => {
    const script = `
      import { createLogger } from './packages/telemetry/src/index.ts';
      const log = createLogger({ name: 'sagaflow-engine', level: 'info', base: { engine: 'e1' } });
      log.debug('not shown');
      log.info('engine ready');
      log.warn('dispatch failed', { saga: 'order', instanceId: 'order-1', step: 'charge', effectId: 'order-1/charge/action/1', traceId: 'abc' });
    `;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    const out = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const err = run.stderr.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(out).toEqual([expect.objectContaining({ level: 30, name: 'sagaflow-engine', engine: 'e1', msg: 'engine ready' })]);
    expect(err).toEqual([
      expect.objectContaining({ level: 40, msg: 'dispatch failed', saga: 'order', instanceId: 'order-1', step: 'charge', effectId: 'order-1/charge/action/1', traceId: 'abc' }),
    ]);
    expect(typeof out[0]?.time).toBe('string');
  });

  it('on a terminal (pretty): readable lines with the level and message, the fields of the instance, not the ones every line shares', () => {
    const script = `
      import { createLogger } from './packages/telemetry/src/index.ts';
      const log = createLogger({ name: 'sagaflow-engine', pretty: true, base: { engine: 'e1' } });
      log.info('engine ready');
      log.warn('dispatch failed', { instanceId: 'order-1' });
    `;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(sagaflow-engine\): engine ready\n$/u);
    expect(run.stderr).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN \(sagaflow-engine\): dispatch failed\n {4}instanceId: "order-1"\n$/u);
  });
});
