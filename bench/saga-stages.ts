/**
 * Where a saga's latency goes, seen from the wire (`npm run bench -- --stages`, concurrency-1 runs).
 *
 * A core subscription to every subject of the bench's NATS server sees each JetStream message twice:
 * when it is published (the server stores it) and when it is delivered to a consumer (its reply
 * subject is then `$JS.ACK.…`). Ordered per saga, the gaps between these sightings split its latency:
 *   - server hops: a start request, command or reply published → delivered to its consumer;
 *   - engine turns (the relay's in the transport baseline): a start request or reply delivered →
 *     the next command, or the status event that ends the saga, published;
 *   - worker turns (the echo's): a command delivered → its reply published.
 * The times are this process's arrivals, each later than the server's by about the same hop. Only for
 * concurrency 1: at 100 in flight, receiving every message would load the machine it measures.
 */
import * as E from 'fp-ts/lib/Either.js';
import { connectNats, effectOfMessage, parseJson } from '@sagaflow/nats';
import type { Msg, MsgHdrs, NatsConnection, Subscription } from '@nats-io/transport-node';
import { median } from './harness.js';

/** What a sighting was: a start request, command or reply (published or delivered), or the saga's end. */
export type SightingKind = 'start.pub' | 'start.deliv' | 'cmd.pub' | 'cmd.deliv' | 'reply.pub' | 'reply.deliv' | 'end.pub';

/** One message seen on the wire, at `at` milliseconds on this process's monotonic clock. */
export interface Sighting {
  readonly kind: SightingKind;
  readonly at: number;
}

/** A saga's latency split by where it was spent, in milliseconds, with the number of each. */
export interface SagaStages {
  readonly totalMs: number;
  readonly engineMs: number;
  readonly engineTurns: number;
  readonly workerMs: number;
  readonly workerTurns: number;
  readonly serverMs: number;
  readonly serverHops: number;
}

/** Medians over the sagas of a workload: of their totals per part, and of single turns and hops. */
export interface StageReport {
  readonly sagas: number;
  readonly totalMs: number;
  readonly engineMs: number;
  readonly engineTurnMs: number;
  readonly engineTurns: number;
  readonly workerMs: number;
  readonly workerTurnMs: number;
  readonly workerTurns: number;
  readonly serverMs: number;
  readonly serverHopMs: number;
  readonly serverHops: number;
}

type Part = 'engine' | 'worker' | 'server';

/** Which part of the system a gap between two consecutive sightings of a saga belongs to. */
const partOf: Readonly<Record<string, Part>> = {
  'start.pub>start.deliv': 'server',
  'cmd.pub>cmd.deliv': 'server',
  'reply.pub>reply.deliv': 'server',
  'start.deliv>cmd.pub': 'engine',
  'start.deliv>end.pub': 'engine',
  'reply.deliv>cmd.pub': 'engine',
  'reply.deliv>end.pub': 'engine',
  'cmd.deliv>reply.pub': 'worker',
};

/**
 * Splits one saga's sightings (in the order seen) into engine turns, worker turns and server hops;
 * `null` unless they run from its start request's publication to its end. Turns and hops are only
 * taken from consecutive sightings, so a redelivery or a lost sighting leaves a gap unattributed
 * rather than attributed to the wrong part.
 */
export function stagesOf(sightings: readonly Sighting[]): { stages: SagaStages; turns: Record<Part, number[]> } | null {
  const first = sightings[0];
  const last = sightings.at(-1);
  if (first?.kind !== 'start.pub' || last?.kind !== 'end.pub') return null;
  const turns: Record<Part, number[]> = { engine: [], worker: [], server: [] };
  for (let at = 1; at < sightings.length; at++) {
    const before = sightings[at - 1] as Sighting;
    const after = sightings[at] as Sighting;
    const part = partOf[`${before.kind}>${after.kind}`];
    if (part !== undefined) turns[part].push(after.at - before.at);
  }
  const sum = (xs: readonly number[]): number => xs.reduce((total, x) => total + x, 0);
  return {
    stages: {
      totalMs: last.at - first.at,
      engineMs: sum(turns.engine),
      engineTurns: turns.engine.length,
      workerMs: sum(turns.worker),
      workerTurns: turns.worker.length,
      serverMs: sum(turns.server),
      serverHops: turns.server.length,
    },
    turns,
  };
}

const ms = (x: number): number => Number(x.toFixed(3));

/** The medians over many sagas' sightings; `null` if none of them ran from start to end. */
export function stageReport(sagas: Iterable<readonly Sighting[]>): StageReport | null {
  const split = [...sagas].map(stagesOf).filter((each) => each !== null);
  if (split.length === 0) return null;
  const of = (pick: (stages: SagaStages) => number): number => ms(median(split.map((each) => pick(each.stages))));
  const each = (part: Part): number => ms(median(split.flatMap((one) => one.turns[part])));
  return {
    sagas: split.length,
    totalMs: of((s) => s.totalMs),
    engineMs: of((s) => s.engineMs),
    engineTurnMs: each('engine'),
    engineTurns: of((s) => s.engineTurns),
    workerMs: of((s) => s.workerMs),
    workerTurnMs: each('worker'),
    workerTurns: of((s) => s.workerTurns),
    serverMs: of((s) => s.serverMs),
    serverHopMs: each('server'),
    serverHops: of((s) => s.serverHops),
  };
}

const terminal = new Set(['completed', 'compensated', 'cancelled', 'stuck']);

/**
 * What a message on the bench's NATS server was, for the stage split, and whose saga it concerns;
 * `null` for everything else (acknowledgements, API calls, status changes that do not end a saga).
 * Sagaflow's commands and replies name their instance in their headers (their message id, the effect id
 * or `reply:<effect id>`; `Sagaflow-Instance` in the older forms), the baseline's in their JSON body.
 */
export function sightingOf(subject: string, replyTo: string | undefined, headers: MsgHdrs | undefined, data: Uint8Array): { kind: SightingKind; instanceId: string } | null {
  const tokens = subject.split('.');
  const kind = tokens[1];
  const delivered = replyTo?.startsWith('$JS.ACK.') === true;
  let sighting: SightingKind;
  if (kind === 'start') sighting = delivered ? 'start.deliv' : 'start.pub';
  else if (kind === 'cmd') sighting = delivered ? 'cmd.deliv' : 'cmd.pub';
  else if (kind === 'reply') sighting = delivered ? 'reply.deliv' : 'reply.pub';
  else if (kind === 'evt' && !delivered && terminal.has(tokens.at(-1) ?? '')) sighting = 'end.pub';
  else return null;
  const instanceId = (kind === 'cmd' || kind === 'reply' ? effectOfMessage(headers)?.instanceId : undefined) ?? instanceIdIn(data);
  return instanceId === undefined ? null : { kind: sighting, instanceId };
}

function instanceIdIn(data: Uint8Array): string | undefined {
  const body = parseJson(data);
  if (E.isLeft(body) || typeof body.right !== 'object' || body.right === null) return undefined;
  const { instanceId } = body.right as { instanceId?: unknown };
  return typeof instanceId === 'string' ? instanceId : undefined;
}

/** Watches every message on a NATS server and keeps, per saga, what it saw and when. */
export class StageWatch {
  private readonly sightings = new Map<string, Sighting[]>();
  private readonly subscription: Subscription;

  private constructor(private readonly connection: NatsConnection) {
    this.subscription = connection.subscribe('>', { callback: (error, msg) => (error === null ? this.see(msg) : undefined) });
  }

  /** Connects to the server at `url` and starts watching; resolves once the server has the subscription. */
  static async start(url: string): Promise<StageWatch> {
    const watch = new StageWatch(await connectNats({ url, name: 'bench-stages' }));
    await watch.connection.flush();
    return watch;
  }

  /** The medians over the sagas whose instance ids start with `prefix`, or `null` if none was seen whole. */
  report(prefix: string): StageReport | null {
    return stageReport([...this.sightings].filter(([instanceId]) => instanceId.startsWith(prefix)).map(([, seen]) => seen));
  }

  async stop(): Promise<void> {
    this.subscription.unsubscribe();
    await this.connection.close();
  }

  private see(msg: Msg): void {
    const at = performance.now();
    const seen = sightingOf(msg.subject, msg.reply, msg.headers, msg.data);
    if (seen === null) return;
    let list = this.sightings.get(seen.instanceId);
    if (list === undefined) this.sightings.set(seen.instanceId, (list = []));
    list.push({ kind: seen.kind, at });
  }
}
