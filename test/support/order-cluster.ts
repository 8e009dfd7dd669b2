import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { EventStore, SagaStatus } from '@sagaflow/core';
import { connectNats, naming, requestStart, type Naming } from '@sagaflow/nats';
import { openSqliteEventStore } from '@sagaflow/store-sqlite';
import { orderInput } from '../../examples/order-fulfilment/order-input.js';
import { spawnNode, spawnTs, type Child } from './processes.js';

/** The order saga's services, each a worker process with its own database. */
export const services = ['inventory', 'payment', 'shipping'] as const;
export type Service = (typeof services)[number];

/**
 * An engine process (`sagaflow run`) and one worker process per service, over a NATS server, in a
 * namespace and a temporary directory of their own.
 */
export class OrderCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'sagaflow-e2e-'));
  readonly namespace = `e2e${Math.random().toString(36).slice(2, 10)}`;
  readonly names: Naming = naming(this.namespace);
  readonly storePath = join(this.dir, 'sagaflow.db');
  engine: Child | null = null;
  readonly workers = new Map<Service, Child>();
  private connection: NatsConnection | null = null;
  private store: EventStore | null = null;

  constructor(
    readonly natsUrl: string,
    private readonly workerArgs: readonly string[] = ['--ack-wait-ms', '2000'],
  ) {}

  dbOf(service: Service): string {
    return join(this.dir, `${service}.db`);
  }

  async startEngine(): Promise<void> {
    const engine = spawnNode(['packages/cli/bin/sagaflow.js', 'run', '--store', `sqlite:${this.storePath}`, '--nats', this.natsUrl, '--namespace', this.namespace, '--ack-wait-ms', '2000']);
    this.engine = engine;
    await engine.waitFor(/engine ready/u, 60_000);
  }

  async startWorker(service: Service): Promise<void> {
    const worker = spawnTs('examples/order-fulfilment/worker.ts', ['--service', service, '--db', this.dbOf(service), '--namespace', this.namespace, '--nats', this.natsUrl, ...this.workerArgs]);
    this.workers.set(service, worker);
    await worker.waitFor(/^worker ready$/u, 60_000);
  }

  async startAll(): Promise<void> {
    await this.startEngine();
    await Promise.all(services.map((service) => this.startWorker(service)));
  }

  async kill(child: Child | null | undefined): Promise<void> {
    if (child === null || child === undefined) return;
    child.process.kill('SIGKILL');
    await child.exited;
  }

  async nats(): Promise<NatsConnection> {
    this.connection ??= await connectNats({ url: this.natsUrl, name: 'e2e-driver' });
    return this.connection;
  }

  eventStore(): EventStore {
    this.store ??= openSqliteEventStore(this.storePath);
    return this.store;
  }

  /** Sends start requests for orders `from` … `to - 1`, `parallel` at a time. */
  async startOrders(from: number, to: number, parallel = 50): Promise<void> {
    const js = jetstream(await this.nats());
    for (let n = from; n < to; n += parallel) {
      const batch = [];
      for (let m = n; m < Math.min(to, n + parallel); m++) batch.push(requestStart(js, this.names, { saga: 'order-fulfilment', instanceId: `order-${m}`, input: orderInput(m) }));
      await Promise.all(batch);
    }
  }

  /** Counts instances by status. */
  async statuses(count: number): Promise<Map<SagaStatus, number>> {
    const all = await this.eventStore().listInstances({ limit: count + 1 });
    const counts = new Map<SagaStatus, number>();
    for (const row of all) counts.set(row.status, (counts.get(row.status) ?? 0) + 1);
    return counts;
  }

  /** Waits until `count` instances exist and none is unfinished; returns the counts by status. */
  async settled(count: number, timeoutMs = 90_000): Promise<Map<SagaStatus, number>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const counts = await this.statuses(count);
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      const open = (counts.get('running') ?? 0) + (counts.get('compensating') ?? 0) + (counts.get('pending') ?? 0);
      if (total === count && open === 0) return counts;
      if (Date.now() > deadline) {
        throw new Error(`not settled after ${timeoutMs} ms: ${JSON.stringify(Object.fromEntries(counts))}; engine stderr: ${this.engine?.stderr.join('').slice(-2000) ?? ''}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Waits until at least `count` instances are terminal. */
  async finishedAtLeast(count: number, total: number): Promise<void> {
    for (let i = 0; i < 600; i++) {
      const counts = await this.statuses(total);
      if ((counts.get('completed') ?? 0) + (counts.get('compensated') ?? 0) >= count) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`fewer than ${count} instances finished in 30 s`);
  }

  async stop(): Promise<void> {
    const children = [this.engine, ...this.workers.values()].filter((child): child is Child => child !== null);
    for (const child of children) if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGTERM');
    await Promise.all(children.map((child) => child.exited));
    await this.connection?.close();
    await this.store?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
