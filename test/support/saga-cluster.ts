import { mkdtempSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { EventStore, SagaStatus } from '@sagaflow/core';
import { connectNats, listDeadLetters, naming, requestStart, type Naming } from '@sagaflow/nats';
import { openSqliteEventStore } from '@sagaflow/store-sqlite';
import { startEngine, startUpstream, startWorker, type ExampleSaga } from '../../examples/demo/deployment.js';
import { isRunning, type Child } from '../../examples/demo/processes.js';

/**
 * An example saga deployed for a test: an engine process (`sagaflow run`) and one worker process
 * per service, over a NATS server, in a namespace and a temporary directory of their own.
 */
export class SagaCluster<S extends string> {
  readonly dir = mkdtempSync(join(tmpdir(), 'sagaflow-e2e-'));
  readonly namespace = `e2e${Math.random().toString(36).slice(2, 10)}`;
  readonly names: Naming = naming(this.namespace);
  readonly storePath = join(this.dir, 'sagaflow.db');
  engine: Child | null = null;
  /** Engines started by name (`startEngineAs`), several sharing the namespace. */
  readonly engines = new Map<string, Child>();
  readonly workers = new Map<S, Child>();
  /** Upstream processes of a two-phase example (`prepareInstances`). */
  readonly upstreams: Child[] = [];
  private connection: NatsConnection | null = null;
  private store: EventStore | null = null;
  /** A read-only connection to the store file, for counting. */
  private counter: Database.Database | null = null;
  /** The store URL the engine runs on, when not the cluster's own SQLite file. */
  private storeUrl: string | null = null;

  constructor(
    readonly example: ExampleSaga<S>,
    readonly natsUrl: string,
    private readonly workerArgs: readonly string[] = ['--ack-wait-ms', '2000'],
  ) {}

  dbOf(service: S): string {
    return join(this.dir, `${service}.db`);
  }

  /** Every service's database. */
  databases(): string[] {
    return this.example.services.map((service) => this.dbOf(service));
  }

  async startEngine(): Promise<void> {
    const store = this.storeUrl === null ? { storePath: this.storePath } : { storeUrl: this.storeUrl };
    this.engine = await startEngine({ natsUrl: this.natsUrl, namespace: this.namespace, ...store, ackWaitMs: 2000 });
  }

  /** Starts one more engine sharing the namespace, named `id`, with `args` besides (e.g. `--lease-ttl-ms`). */
  async startEngineAs(id: string, args: readonly string[] = []): Promise<Child> {
    const engine = await startEngine({ natsUrl: this.natsUrl, namespace: this.namespace, storePath: this.storePath, ackWaitMs: 2000, args: ['--engine-id', id, ...args] });
    this.engines.set(id, engine);
    return engine;
  }

  async startWorker(service: S): Promise<void> {
    const worker = await startWorker(this.example, { natsUrl: this.natsUrl, namespace: this.namespace, service, db: this.dbOf(service), args: this.workerArgs });
    this.workers.set(service, worker);
  }

  async startAll(): Promise<void> {
    await this.startEngine();
    await Promise.all(this.example.services.map((service) => this.startWorker(service)));
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

  /** Runs the engine on another store (`url`), read by the test through `store`. Call before starting the engine. */
  useStore(url: string, store: EventStore): void {
    this.storeUrl = url;
    this.store = store;
  }

  eventStore(): EventStore {
    this.store ??= openSqliteEventStore(this.storePath);
    return this.store;
  }

  /** Sends start requests for instances `from` … `to - 1`, `parallel` at a time (one-phase; a two-phase example starts them with `prepareInstances`). */
  async startInstances(from: number, to: number, parallel = 50): Promise<void> {
    const js = jetstream(await this.nats());
    const { saga, instanceId, input } = this.example;
    for (let n = from; n < to; n += parallel) {
      const batch = [];
      for (let m = n; m < Math.min(to, n + parallel); m++) batch.push(requestStart(js, this.names, { saga, instanceId: instanceId(m), input: input(m) }));
      await Promise.all(batch);
    }
  }

  /**
   * Sends start requests for instances `from` … `to - 1` as a client with bounded concurrency does: a
   * batch of `parallel` at a time, each once no more than `window` started instances are unfinished.
   */
  async startInstancesPaced(from: number, to: number, window: number, parallel = 50): Promise<void> {
    for (let n = from; n < to; n += parallel) {
      for (;;) {
        const counts = await this.statuses(to);
        const finished = (counts.get('completed') ?? 0) + (counts.get('compensated') ?? 0) + (counts.get('cancelled') ?? 0) + (counts.get('stuck') ?? 0);
        if (n - from - finished <= window) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await this.startInstances(n, Math.min(to, n + parallel), parallel);
    }
  }

  /**
   * Two-phase start of instances `from` … `to - 1` by the example's upstream: one process runs the
   * instances whose upstream is not scheduled to die and keeps serving check-backs (the returned
   * `upstream`); each of the others runs in a process of its own, which kills itself where
   * scheduled (`crashed`, by instance number). Resolves once the first has run all of its own
   * and every other has died.
   */
  async prepareInstances(from: number, to: number): Promise<{ upstream: Child; crashed: Map<number, Child> }> {
    const spec = this.example.upstream;
    if (spec === undefined) throw new Error(`${this.example.saga} has no upstream: use startInstances`);
    const all = Array.from({ length: to - from }, (_, i) => from + i);
    const options = { natsUrl: this.natsUrl, namespace: this.namespace, db: this.dbOf(spec.service), track: (child: Child) => void this.upstreams.push(child) };
    const upstream = await startUpstream(spec, { ...options, instances: all.filter((n) => spec.crashAt(n) === null) });
    const doomed = all.filter((n) => spec.crashAt(n) !== null);
    const crashed = new Map(await Promise.all(doomed.map(async (n) => [n, await startUpstream(spec, { ...options, instances: [n], crashAt: spec.crashAt(n) })] as const)));
    const dies = (n: number, child: Child): Promise<unknown> =>
      Promise.race([child.exited, new Promise((_, reject) => setTimeout(() => reject(new Error(`the upstream of instance ${n} did not die at ${spec.crashAt(n) ?? ''}`)), 60_000).unref())]);
    await Promise.all([upstream.waitFor(/^instances done$/u, 60_000), ...[...crashed].map(([n, child]) => dies(n, child))]);
    return { upstream, crashed };
  }

  /** Counts instances by status (on the cluster's own SQLite file, one grouped query). */
  async statuses(count: number): Promise<Map<SagaStatus, number>> {
    if (this.storeUrl === null) {
      this.counter ??= new Database(this.storePath, { readonly: true, fileMustExist: true });
      const rows = this.counter.prepare('SELECT status, count(*) AS n FROM instances GROUP BY status').all() as { status: SagaStatus; n: number }[];
      return new Map(rows.map((row) => [row.status, row.n]));
    }
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
        throw new Error(`not settled after ${timeoutMs} ms: ${JSON.stringify(Object.fromEntries(counts))}${await this.diagnosis()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** What a settle that timed out leaves to read: the dead letters' reasons, and the end of every engine's stderr. */
  private async diagnosis(): Promise<string> {
    let letters = '';
    try {
      const found = await listDeadLetters(await jetstreamManager(await this.nats()), this.names, { limit: 20 });
      letters = found.map((letter) => `\n  dead letter ${letter.sequence} (${letter.originSubject}, ${letter.effectId ?? letter.instanceId ?? 'no effect'}): ${letter.reason}`).join('');
    } catch (error) {
      letters = `\n  dead letters not read: ${error instanceof Error ? error.message : String(error)}`;
    }
    const engines = [...(this.engine === null ? [] : [['engine', this.engine] as const]), ...this.engines.entries()];
    const stderr = engines.map(([id, child]) => `\n  ${id} stderr: ${child.stderr.join('').slice(-1500)}`).join('');
    return `${letters}${stderr}`;
  }

  /** Waits until at least `count` instances are terminal. */
  async finishedAtLeast(count: number, total: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const counts = await this.statuses(total);
      if ((counts.get('completed') ?? 0) + (counts.get('compensated') ?? 0) >= count) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`fewer than ${count} instances finished in ${timeoutMs} ms`);
  }

  async stop(): Promise<void> {
    const children = [this.engine, ...this.engines.values(), ...this.workers.values(), ...this.upstreams].filter((child): child is Child => child !== null);
    for (const child of children) {
      if (!isRunning(child)) continue;
      child.process.kill('SIGCONT'); // one a test paused must run to stop
      child.process.kill('SIGTERM');
    }
    await Promise.all(children.map((child) => child.exited));
    await this.connection?.close();
    await this.store?.close();
    this.counter?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
