/**
 * An example saga deployed as the demo and the end-to-end tests run it: the engine (`sagaflow run`)
 * and one worker process per service, each with its own database, over NATS JetStream.
 */
import type { SagaStatus } from '@sagaflow/core';
import { sagaflowFromSources, spawnNode, spawnTs, stopChild, type Child } from './processes.js';

/** An example saga: its worker processes, and instance `n`'s id, input and scheduled outcome. */
export interface ExampleSaga<S extends string = string> {
  readonly saga: string;
  /** The worker process entry (`--service NAME --db PATH ...`), relative to the repository root. */
  readonly workerScript: string;
  readonly services: readonly S[];
  readonly instanceId: (n: number) => string;
  readonly input: (n: number) => unknown;
  /** How instance `n` ends under the example services' failure schedule, and the operations its services apply. */
  readonly expected: (n: number) => { readonly status: SagaStatus; readonly operations: readonly string[] };
  /** Two-phase start: the upstream that starts each instance from its own transaction. Without it, instances are started with start requests. */
  readonly upstream?: ExampleUpstream<S>;
}

/** The upstream of a two-phase start, as a process: prepares, runs its local transaction, confirms or cancels, and serves check-backs. */
export interface ExampleUpstream<S extends string = string> {
  /** The process entry (`--db PATH --instances N,N,... [--crash-at POINT] --namespace NS --nats URL`; prints `upstream ready`, then `instances done`), relative to the repository root. */
  readonly script: string;
  /** The service whose database the upstream shares: its local transaction and its start markers live there. */
  readonly service: S;
  /** Where the upstream process running instance `n` is to die (SIGKILL, `--crash-at`), if it is. */
  readonly crashAt: (n: number) => string | null;
}

/** Where the processes meet. */
export interface Rendezvous {
  readonly natsUrl: string;
  readonly namespace: string;
  /** Own process groups (see `SpawnOptions.detached`). */
  readonly detached?: boolean;
  /** Told of each process as soon as it is spawned, before it is ready (to stop it whatever happens next). */
  readonly track?: (child: Child) => void;
}

/** Starts an engine (`sagaflow run` with `args` besides) on a store (a SQLite file, or any store URL) and waits until it is ready; kills it if it is not. */
export async function startEngine(
  options: Rendezvous & ({ readonly storePath: string } | { readonly storeUrl: string }) & { readonly ackWaitMs?: number; readonly args?: readonly string[] },
): Promise<Child> {
  const store = 'storeUrl' in options ? options.storeUrl : `sqlite:${options.storePath}`;
  const args = [...sagaflowFromSources, 'run', '--store', store, '--nats', options.natsUrl, '--namespace', options.namespace, ...(options.args ?? [])];
  const engine = spawnNode([...args, ...(options.ackWaitMs === undefined ? [] : ['--ack-wait-ms', String(options.ackWaitMs)])], process.env, { detached: options.detached === true });
  return ready(engine, /engine ready/u, options);
}

/** Starts the worker process of one service and waits until it consumes; kills it if it does not. */
export async function startWorker(
  example: ExampleSaga,
  options: Rendezvous & { readonly service: string; readonly db: string; readonly args?: readonly string[] },
): Promise<Child> {
  const args = ['--service', options.service, '--db', options.db, '--namespace', options.namespace, '--nats', options.natsUrl, ...(options.args ?? [])];
  return ready(spawnTs(example.workerScript, args, { detached: options.detached === true }), /^worker ready$/u, options);
}

/** Starts an upstream process running `instances` (optionally killing itself at `crashAt`) and waits until it serves check-backs; kills it if it does not. */
export async function startUpstream(
  upstream: ExampleUpstream,
  options: Rendezvous & { readonly db: string; readonly instances: readonly number[]; readonly crashAt?: string | null },
): Promise<Child> {
  const args = ['--db', options.db, '--namespace', options.namespace, '--nats', options.natsUrl, '--instances', options.instances.join(',')];
  const crash = options.crashAt === undefined || options.crashAt === null ? [] : ['--crash-at', options.crashAt];
  return ready(spawnTs(upstream.script, [...args, ...crash], { detached: options.detached === true }), /^upstream ready$/u, options);
}

async function ready(child: Child, pattern: RegExp, options: Rendezvous): Promise<Child> {
  options.track?.(child);
  try {
    await child.waitFor(pattern, 60_000);
    return child;
  } catch (error) {
    await stopChild(child, 1000);
    throw error;
  }
}
