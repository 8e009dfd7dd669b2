/**
 * Traces across NATS: an engine (`sagaflow run`) and a worker run as processes exporting spans over
 * OTLP/HTTP (OTEL_EXPORTER_OTLP_ENDPOINT) to a receiver in this test. Orders are started from inside
 * an upstream request's trace (this process, with a W3C propagator and async context registered).
 * One saga's spans must form one trace: the upstream's span → saga → step attempt → worker handler →
 * the team's own span, with retries as sibling attempts; `sagaflow show` prints the trace id.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { context, propagation, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { connectNats, naming, requestStart } from '@sagaflow/nats';
import { openSqliteEventStore } from '@sagaflow/store-sqlite';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { orderInput } from '../../examples/order-fulfilment/order-input.js';
import { sagaflowFromSources, spawnNode, spawnTs, stopChild, type Child } from '../../examples/demo/processes.js';
import { sagaflow, sagaflowJson } from '../support/cli.js';
import { OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';

const dir = mkdtempSync(join(tmpdir(), 'sagaflow-otlp-'));
const namespace = `otlp${randomBytes(4).toString('hex')}`;
const store = `sqlite:${join(dir, 'sagaflow.db')}`;
const upstream = { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex') };
let receiver: OtlpReceiver;
const children: Child[] = [];

beforeAll(async () => {
  // This process plays the upstream service: its request handler's span is active when it starts the saga.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  receiver = await OtlpReceiver.start();
  const env = { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_BSP_SCHEDULE_DELAY: '100' };
  const natsUrl = inject('natsUrl');
  const engine = spawnNode([...sagaflowFromSources, 'run', '--store', store, '--nats', natsUrl, '--namespace', namespace], env);
  children.push(engine);
  await engine.waitFor(/engine ready/u, 60_000);
  expect(engine.lines.join('\n')).toContain(`traces to ${receiver.endpoint}/v1/traces`);
  const worker = spawnTs('test/support/traced-order-worker.ts', ['--namespace', namespace, '--nats', natsUrl], { env: { ...env, OTEL_SERVICE_NAME: 'order-worker' } });
  children.push(worker);
  await worker.waitFor(/^worker ready$/u, 60_000);
}, 120_000);

afterAll(async () => {
  for (const child of children) await stopChild(child);
  await receiver.close();
  context.disable();
  propagation.disable();
  rmSync(dir, { recursive: true, force: true });
});

async function settle(ids: readonly string[]): Promise<void> {
  const events = openSqliteEventStore(join(dir, 'sagaflow.db'));
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const rows = await Promise.all(ids.map((id) => events.getInstance(id)));
      if (rows.every((row) => row !== undefined && ['completed', 'compensated'].includes(row.status))) return;
      if (Date.now() > deadline) throw new Error(`not settled: ${JSON.stringify(rows.map((row) => [row?.instanceId, row?.status]))}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await events.close();
  }
}

/** Waits until `found` returns something from the spans received so far. */
async function received<T>(found: (spans: readonly ReceivedSpan[]) => T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const result = found(receiver.spans);
    if (result !== undefined) return result;
    if (Date.now() > deadline) throw new Error(`no ${what} among ${receiver.spans.length} spans: ${receiver.spans.map((s) => `${s.service}:${s.name}`).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const sagaSpanOf = (instanceId: string) => (spans: readonly ReceivedSpan[]) =>
  spans.find((s) => s.service === 'sagaflow-engine' && s.name === 'saga order-fulfilment' && s.attributes['sagaflow.instance_id'] === instanceId);

describe('traces over OTLP from an engine and a worker process', () => {
  it('one trace per saga: upstream → saga → step attempts (retries as siblings) → worker handler → the team’s span; compensations too; show prints the trace id', async () => {
    const connection = await connectNats({ url: inject('natsUrl'), name: 'otlp-upstream' });
    const js = jetstream(connection);
    const names = naming(namespace);
    const request = trace.setSpanContext(ROOT_CONTEXT, { ...upstream, traceFlags: TraceFlags.SAMPLED, isRemote: true });
    for (const n of [3, 5]) await context.with(request, () => requestStart(js, names, { saga: 'order-fulfilment', instanceId: `order-${n}`, input: orderInput(n) }));
    await requestStart(js, names, { saga: 'order-fulfilment', instanceId: 'order-1', input: orderInput(1) });
    await connection.close();
    await settle(['order-1', 'order-3', 'order-5']);

    // order-3: its shipment failed twice, then went through.
    const saga = await received(sagaSpanOf('order-3'), 'saga span of order-3');
    expect(saga).toMatchObject({ traceId: upstream.traceId, parentSpanId: upstream.spanId, status: 1, attributes: { 'sagaflow.status': 'completed' } });
    const inTrace = () => receiver.spans.filter((s) => s.traceId === upstream.traceId);
    const steps = await received(() => {
      const found = inTrace().filter((s) => s.service === 'sagaflow-engine' && s.name.startsWith('step ') && s.attributes['sagaflow.instance_id'] === 'order-3');
      return found.length === 5 ? found : undefined;
    }, 'five step attempt spans of order-3');
    expect(steps.map((s) => `${s.name}#${String(s.attributes['sagaflow.attempt'])}`).sort()).toEqual([
      'step chargePayment#1',
      'step createShipment#1',
      'step createShipment#2',
      'step createShipment#3',
      'step reserveInventory#1',
    ]);
    for (const step of steps) expect(step.parentSpanId, step.name).toBe(saga.spanId);
    const shipments = steps.filter((s) => s.name === 'step createShipment').sort((a, b) => Number(a.attributes['sagaflow.attempt']) - Number(b.attributes['sagaflow.attempt']));
    expect(shipments.map((s) => [s.status, s.attributes['sagaflow.error_code'] ?? null])).toEqual([
      [2, 'CarrierUnavailable'],
      [2, 'CarrierUnavailable'],
      [0, null],
    ]);
    // Each attempt was handled by the worker in a span continuing it, and the team's own span is inside that.
    for (const step of steps) {
      const handler = await received(() => inTrace().find((s) => s.service === 'order-worker' && s.parentSpanId === step.spanId), `worker span under ${step.name}`);
      expect(handler).toMatchObject({ name: `handle ${String(step.name.slice('step '.length))}`, kind: 5, attributes: { 'sagaflow.effect_id': step.attributes['sagaflow.effect_id'] } });
      const own = await received(() => inTrace().find((s) => s.parentSpanId === handler.spanId), `the team's span under ${handler.name}`);
      expect(own.service).toBe('order-worker');
      expect(own.name).toMatch(/^(reserve in warehouse|call card processor|book carrier)$/u);
    }

    // order-5: declined, compensated; its compensation is a child of its saga span too, in the same upstream trace.
    const declined = await received(sagaSpanOf('order-5'), 'saga span of order-5');
    expect(declined).toMatchObject({ traceId: upstream.traceId, parentSpanId: upstream.spanId, status: 2, attributes: { 'sagaflow.status': 'compensated' } });
    const compensation = await received(() => inTrace().find((s) => s.name === 'compensate reserveInventory' && s.attributes['sagaflow.instance_id'] === 'order-5'), 'compensation span of order-5');
    expect(compensation.parentSpanId).toBe(declined.spanId);
    await received(() => inTrace().find((s) => s.name === 'handle releaseInventory' && s.parentSpanId === compensation.spanId), 'worker span of the compensation');

    // order-1 started outside any trace: a trace of its own, its saga span the root.
    const alone = await received(sagaSpanOf('order-1'), 'saga span of order-1');
    expect(alone.parentSpanId).toBe('');
    expect(alone.traceId).not.toBe(upstream.traceId);

    // The instance's events record its trace: show prints it.
    const shown = await sagaflowJson<{ traceId: string | null }>(['show', 'order-3', '--store', store]);
    expect(shown.traceId).toBe(upstream.traceId);
    expect(receiver.rejected).toEqual([]);

    // The console links the trace to the team's tracing tool, given a link template.
    const ui = spawnNode([...sagaflowFromSources, 'ui', '--store', store, '--nats', inject('natsUrl'), '--namespace', namespace, '--port', '0', '--trace-url', 'http://jaeger.example:16686/trace/{traceId}']);
    children.push(ui);
    const base = /(http:\/\/\S+\/)/u.exec(await ui.waitFor(/^console ready: /u, 30_000))?.[1] ?? '';
    const detail = (await (await fetch(`${base}api/instances/order-3`)).json()) as { history: { trace: { traceId: string } | null }; traceUrl: string | null };
    expect(detail.history.trace?.traceId).toBe(upstream.traceId);
    expect(detail.traceUrl).toBe(`http://jaeger.example:16686/trace/${upstream.traceId}`);
    const refused = await sagaflow(['ui', '--store', store, '--nats', inject('natsUrl'), '--namespace', namespace, '--port', '0', '--trace-url', 'ftp://jaeger/{traceId}']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('The trace link "ftp://jaeger/{traceId}" is not an http(s) URL with {traceId} in it');
  });
});
