/**
 * The metrics, read by the tool that reads them in production: a real Prometheus scrapes a real engine
 * and the order saga's three workers (every second) while 100 orders run with injected failures
 * (declined payments compensated, a carrier failing twice then retried, a garbage command and a garbage
 * reply dead-lettered). Then PromQL over its HTTP API must give what the event log says happened, and
 * every query of the provisioned Grafana dashboard must be valid PromQL with an answer.
 */
import { readFileSync } from 'node:fs';
import { jetstream } from '@nats-io/jetstream';
import * as E from 'fp-ts/lib/Either.js';
import { decodeStream } from '@sagaflow/core';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { Child } from '../../examples/demo/processes.js';
import { OrderCluster, services } from '../support/order-cluster.js';
import { Prometheus } from '../support/prometheus.js';

const count = 100;
let cluster: OrderCluster | null = null;
let prometheus: Prometheus | null = null;
afterEach(async () => {
  await cluster?.stop();
  await prometheus?.stop();
  cluster = null;
  prometheus = null;
});

/** The `host:port` a process serves its metrics on, from the line it logs. */
async function metricsTarget(child: Child): Promise<string> {
  const line = await child.waitFor(/metrics on http:\/\/[\d.]+:\d+\/metrics/u, 30_000);
  const target = /metrics on http:\/\/([\d.]+:\d+)\/metrics/u.exec(line)?.[1];
  if (target === undefined) throw new Error(`no metrics address in ${line}`);
  return target;
}

/** What the event log says happened to the orders. */
async function fromTheLog(c: OrderCluster): Promise<{ ended: Record<string, number>; attempts: number; retries: number; failures: Record<string, number>; compensations: number; replies: number }> {
  const store = c.eventStore();
  const ended: Record<string, number> = {};
  const failures: Record<string, number> = {};
  let attempts = 0;
  let retries = 0;
  let compensations = 0;
  let replies = 0;
  for (let n = 0; n < count; n++) {
    const events = decodeStream(await store.readStream(`order-${n}`));
    if (E.isLeft(events)) throw new Error(`order-${n}: ${events.left.message}`);
    for (const event of events.right) {
      if (event.type === 'StepDispatched' || event.type === 'CompensationDispatched') {
        attempts++;
        if (event.attempt > 1) retries++;
      }
      if (event.type === 'StepFailed' || event.type === 'CompensationFailed') failures[event.error.code] = (failures[event.error.code] ?? 0) + 1;
      if (event.type === 'CompensationSucceeded') compensations++;
      if (event.type === 'StepSucceeded' || event.type === 'StepFailed' || event.type === 'CompensationSucceeded' || event.type === 'CompensationFailed') replies++;
      if (event.type === 'SagaCompleted') ended.completed = (ended.completed ?? 0) + 1;
      if (event.type === 'SagaCompensated') ended.compensated = (ended.compensated ?? 0) + 1;
    }
  }
  return { ended, attempts, retries, failures, compensations, replies };
}

describe('Prometheus scraping an engine and its workers', () => {
  it('PromQL gives what the event log says: ended by status, attempts, retries, failures by code, compensations, dead letters; the dashboard queries all answer', async () => {
    cluster = new OrderCluster(inject('natsUrl'), ['--ack-wait-ms', '2000', '--metrics-port', '0']);
    const engine = await cluster.startEngineAs('engine-metrics', ['--metrics-port', '0']);
    cluster.engine = engine;
    for (const service of services) await cluster.startWorker(service);
    const engineTarget = await metricsTarget(engine);
    const workerTargets = await Promise.all(services.map((service) => metricsTarget(cluster?.workers.get(service) as Child)));
    prometheus = await Prometheus.start({ 'sagaflow-engine': [engineTarget], 'sagaflow-worker': workerTargets });

    const js = jetstream(await cluster.nats());
    const garbage = new Uint8Array([0xff, 0xfe, 0x00, 0x42]);
    await cluster.startOrders(0, count / 2);
    await js.publish(cluster.names.command('order-fulfilment', 'chargePayment'), garbage);
    await js.publish(cluster.names.reply('order-fulfilment', 0), garbage);
    await cluster.startOrders(count / 2, count);
    expect(Object.fromEntries(await cluster.settled(count))).toEqual({ completed: 80, compensated: 20 });
    const log = await fromTheLog(cluster);
    // The plan of the order example: every fifth payment declined, orders 3, 13, … see the carrier fail twice.
    expect(log).toMatchObject({ ended: { completed: 80, compensated: 20 }, retries: 20, failures: { PaymentDeclined: 20, CarrierUnavailable: 20 }, compensations: 20 });

    // Wait for a scrape taken after the last saga ended (and after both dead letters were counted).
    const p = prometheus;
    const deadline = Date.now() + 30_000;
    while ((await p.value('sum(sagaflow_instances_ended_total)')) < count || (await p.value('sum(sagaflow_worker_commands_total{outcome="dead_lettered"})')) < 1 || (await p.value('sum(sagaflow_transport_dead_letters_total)')) < 1) {
      if (Date.now() > deadline) throw new Error(`Prometheus did not see the run end; targets: ${JSON.stringify(await p.targets())}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await new Promise((resolve) => setTimeout(resolve, 1500)); // one more scrape: nothing changes after the end

    const byStatus: Record<string, number> = Object.fromEntries((await p.query('sum by (status) (sagaflow_instances_ended_total{saga="order-fulfilment"})')).map((s) => [s.metric.status ?? '', s.value]));
    expect(byStatus).toEqual(log.ended);
    expect(await p.value('sum(sagaflow_instances_started_total{saga="order-fulfilment"})')).toBe(count);
    expect(await p.value('sum(sagaflow_step_attempts_total)')).toBe(log.attempts);
    expect(await p.value('sum(sagaflow_step_retries_total)')).toBe(log.retries);
    expect(await p.value('sum(sagaflow_step_retries_total{step="createShipment",kind="action"})')).toBe(log.retries);
    const failures: Record<string, number> = Object.fromEntries((await p.query('sum by (code) (sagaflow_step_failures_total)')).map((s) => [s.metric.code ?? '', s.value]));
    expect(failures).toEqual(log.failures);
    expect(await p.value('sum(sagaflow_compensations_total{step="reserveInventory"})')).toBe(log.compensations);
    expect(await p.value('sum(sagaflow_saga_duration_seconds_count)')).toBe(count);
    expect(await p.value('sum(sagaflow_step_duration_seconds_count)')).toBe(log.replies);
    expect(await p.value('sum(sagaflow_instances_in_flight)')).toBe(0);
    // The garbage: one command the payment worker dead-lettered, one reply the engine did; neither names an instance.
    expect(await p.value('sum by (job) (sagaflow_worker_commands_total{outcome="dead_lettered", operation="chargePayment"})')).toBe(1);
    expect(await p.value('sum(sagaflow_transport_dead_letters_total{reason="undecodable_reply"})')).toBe(1);
    expect(await p.value('sum(sagaflow_dead_letters_total)')).toBe(0);
    // The workers handled at least every reply the engine recorded (more only if a command was redelivered).
    expect(await p.value('sum(sagaflow_worker_commands_total{outcome=~"succeeded|failed"})')).toBeGreaterThanOrEqual(log.replies);
    expect(await p.value('sum(sagaflow_store_appends_per_commit_sum)')).toBeGreaterThanOrEqual(await p.value('sum(sagaflow_store_commit_duration_seconds_count)'));
    expect(await p.value('count(nodejs_eventloop_lag_p99_seconds)')).toBe(4);
    expect((await p.targets()).map((t) => t.health)).toEqual(['up', 'up', 'up', 'up']);

    // Every query of the provisioned dashboard is PromQL Prometheus accepts, over these very metrics.
    const dashboard = JSON.parse(readFileSync('deploy/observability/grafana/dashboards/sagaflow.json', 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };
    const queries = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr.replaceAll('$saga', '.*').replaceAll('$__rate_interval', '1m') })));
    expect(queries.length).toBeGreaterThan(20);
    for (const { panel, expr } of queries) await expect(p.query(expr), `${panel}: ${expr}`).resolves.toBeInstanceOf(Array);
  });
});
