import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { decodeStream, type EventStore, type InstanceSummary, type SagaEvent, type SagaStatus } from '@sagaflow/core';
import { connectNats, naming, type Naming } from '@sagaflow/nats';
import { openSqliteEventStore } from '@sagaflow/store-sqlite';
import { eventually as poll, sleep } from '../../support/eventually.js';
import { spawnTs, type Child } from '../../support/processes.js';
import { openBank, type Bank } from './bank.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the test run's NATS server (test/support/nats-global-setup.ts). */
    natsUrl: string;
  }
}

/** The test database: `SAGAFLOW_TEST_PG_URL`, or a local trust-auth server. */
export const pgUrl = process.env.SAGAFLOW_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export { sleep };

/** Polls `probe` until it returns something other than `undefined` (processes here need longer: 15 s by default). */
export const eventually = <T,>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 15_000): Promise<T> => poll(probe, what, timeoutMs);

const script = (name: string): string => `test/reliability/support/${name}.ts`;

/**
 * One test's deployment: a namespace on the run's nats-server, a directory (engine store, the
 * downstream's credits), a PostgreSQL schema with the bank (the upstream), and the processes
 * started for it. `close` stops and removes everything.
 */
export class World {
  readonly namespace = `rel${randomBytes(5).toString('hex')}`;
  readonly names: Naming = naming(this.namespace);
  readonly dir = mkdtempSync(join(tmpdir(), 'sagaflow-rel-'));
  readonly storePath = join(this.dir, 'sagaflow.db');
  readonly creditsPath = join(this.dir, 'credits.db');
  engine: Child | null = null;
  private readonly children = new Set<Child>();
  private store: EventStore | null = null;
  private closers: (() => Promise<unknown>)[] = [];

  private constructor(
    readonly natsUrl: string,
    readonly connection: NatsConnection,
    readonly pool: pg.Pool,
    readonly bank: Bank,
  ) {}

  static async open(natsUrl: string): Promise<World> {
    const pool = new pg.Pool({ connectionString: pgUrl, max: 6 });
    const connection = await connectNats({ url: natsUrl, name: 'reliability-test' });
    const schema = `rel_${randomBytes(6).toString('hex')}`;
    const bank = await openBank(pool, schema).catch(async (error: unknown) => {
      await pool.end();
      await connection.close();
      throw new Error(`PostgreSQL is required at ${pgUrl}: ${error instanceof Error ? error.message : String(error)}`);
    });
    return new World(natsUrl, connection, pool, bank);
  }

  get js(): JetStreamClient {
    return jetstream(this.connection);
  }

  /** Registers something to close with the world (newest first). */
  onClose(close: () => Promise<unknown>): void {
    this.closers.push(close);
  }

  private spawn(name: string, args: readonly string[]): Child {
    const child = spawnTs(script(name), args);
    this.children.add(child);
    void child.exited.then(() => this.children.delete(child));
    return child;
  }

  /** Starts the engine process (optionally with a fault at its event store) and waits until it is ready. */
  async startEngine(fault?: string): Promise<Child> {
    const engine = this.spawn('engine-process', ['--store', this.storePath, '--nats', this.natsUrl, '--namespace', this.namespace, ...(fault === undefined ? [] : ['--fault', fault])]);
    this.engine = engine;
    await engine.waitFor(/^engine ready$/u, 30_000);
    return engine;
  }

  /** Starts the bank process: serves check-backs and, given `transfer`, runs it (see upstream-process.ts). */
  async startUpstream(options: { readonly transfer?: unknown; readonly crashAt?: string; readonly holdMs?: number } = {}): Promise<Child> {
    const args = ['--pg', pgUrl, '--schema', this.bank.schema, '--nats', this.natsUrl, '--namespace', this.namespace];
    if (options.transfer !== undefined) args.push('--transfer', JSON.stringify(options.transfer));
    if (options.crashAt !== undefined) args.push('--crash-at', options.crashAt);
    if (options.holdMs !== undefined) args.push('--hold-ms', String(options.holdMs));
    const upstream = this.spawn('upstream-process', args);
    await upstream.waitFor(/^upstream ready$/u, 30_000);
    return upstream;
  }

  /** Starts the downstream worker process (credits the payee). */
  async startWorker(options: { readonly crashAfterCommit?: boolean } = {}): Promise<Child> {
    const worker = this.spawn('credit-worker', ['--db', this.creditsPath, '--nats', this.natsUrl, '--namespace', this.namespace, ...(options.crashAfterCommit === true ? ['--crash-after-commit'] : [])]);
    await worker.waitFor(/^worker ready$/u, 30_000);
    return worker;
  }

  /** Starts a process of ./support by name with `args` (e.g. the outbox upstream). */
  startProcess(name: string, args: readonly string[]): Child {
    return this.spawn(name, args);
  }

  /** kill -9, and waits for it. */
  async kill(child: Child | null): Promise<void> {
    if (child === null) return;
    if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
    await child.exited;
  }

  eventStore(): EventStore {
    this.store ??= openSqliteEventStore(this.storePath);
    return this.store;
  }

  summary(instanceId: string): Promise<InstanceSummary | undefined> {
    return this.eventStore().getInstance(instanceId);
  }

  /** Waits until the instance has one of `statuses`. */
  async settles(instanceId: string, statuses: readonly SagaStatus[], timeoutMs = 15_000): Promise<InstanceSummary> {
    return eventually(async () => {
      const summary = await this.summary(instanceId);
      return summary !== undefined && statuses.includes(summary.status) ? summary : undefined;
    }, `${instanceId} to be ${statuses.join(' or ')} (engine stderr: ${this.engine?.stderr.join('').slice(-1500) ?? ''})`, timeoutMs);
  }

  async events(instanceId: string): Promise<SagaEvent[]> {
    const decoded = decodeStream(await this.eventStore().readStream(instanceId));
    if (E.isLeft(decoded)) throw new Error(decoded.left.message);
    return decoded.right;
  }

  /** Credits the downstream committed for a transfer. */
  credits(transferId: string): number {
    if (!existsSync(this.creditsPath)) return 0;
    const db = new Database(this.creditsPath, { readonly: true });
    try {
      return db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM credits WHERE transfer_id = ?').get(transferId)?.n ?? 0;
    } finally {
      db.close();
    }
  }

  /** Messages the start stream has taken in since it was created. */
  async startsStored(): Promise<number> {
    return (await (await jetstreamManager(this.connection)).streams.info(this.names.streams.starts)).state.last_seq;
  }

  /** Makes a stream of this namespace refuse every write (the store is full, say), or take them again. */
  async refuseWrites(stream: 'starts' | 'replies', refuse: boolean): Promise<void> {
    const jsm = await jetstreamManager(this.connection);
    await jsm.streams.update(this.names.streams[stream], { max_msg_size: refuse ? 1 : -1 });
  }

  async close(): Promise<void> {
    for (const close of this.closers.reverse()) await close().catch(() => undefined);
    for (const child of [...this.children]) await this.kill(child);
    await this.store?.close();
    await this.connection.close();
    await this.pool.query(`DROP SCHEMA IF EXISTS "${this.bank.schema}" CASCADE`).catch(() => undefined);
    await this.pool.end();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
