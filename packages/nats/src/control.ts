import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { errors, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { decodeWith, formatProblems, interventionActions, type InstanceSummary, type InterventionAction } from '@sagaflow/core';
import type { Naming } from './naming.js';
import { parseJson } from './protocol.js';

/** An operator's request to a running engine. */
export const InterventionRequest = t.intersection([
  t.type({
    instanceId: t.string,
    action: t.keyof(Object.fromEntries(interventionActions.map((action) => [action, null])) as Record<InterventionAction, null>),
    by: t.string,
    reason: t.string,
  }),
  t.partial({ step: t.string }),
]);
export type InterventionRequest = t.TypeOf<typeof InterventionRequest>;

/** The engine's answer: the instance after the intervention, or why it was refused. */
export type InterventionAnswer =
  | { readonly ok: true; readonly summary: InstanceSummary }
  | { readonly ok: false; readonly error: { readonly tag: string; readonly message: string } };

/**
 * How long an engine's event loop has been busy and idle since it started, in milliseconds (Node's
 * event-loop utilisation counters). The busy share over a window is the change in `activeMs` over the
 * change in both: near 1 at a steady load, the engine's one thread is its limit.
 */
export interface EventLoopCounters {
  readonly activeMs: number;
  readonly idleMs: number;
}

/**
 * The busy share (0 to 1) of an event loop between an earlier reading and `now`, or since it started
 * when there is no earlier reading; `null` when no time passed between the two.
 */
export function eventLoopBusyShare(now: EventLoopCounters, earlier: EventLoopCounters = { activeMs: 0, idleMs: 0 }): number | null {
  const active = now.activeMs - earlier.activeMs;
  const total = active + (now.idleMs - earlier.idleMs);
  return total > 0 ? active / total : null;
}

/** What a running engine says about itself when pinged. */
export interface EngineStatus {
  readonly sagas: readonly string[];
  readonly startedAt: number;
  readonly instancesInMemory: number;
  /** Absent from engines of an earlier Sagaflow. */
  readonly eventLoop?: EventLoopCounters;
  /** The engine's id among the namespace's engines, and the partitions it holds (absent from engines of an earlier Sagaflow). */
  readonly engine?: { readonly id: string; readonly partitions: readonly number[] };
}

/** What a running engine offers operators. */
export interface ControlHandlers {
  /** Records an intervention (through the engine owning the instance's partition), answering with its outcome. */
  intervene(request: InterventionRequest): Promise<InterventionAnswer>;
  status(): EngineStatus;
}

/** No engine answered: none is running in this namespace, or it is overloaded. */
export class NoEngineError extends Error {
  readonly _tag = 'NoEngine';
  constructor(
    readonly subject: string,
    readonly reason: string,
  ) {
    super(`No engine answered on ${subject} (${reason}): start one with "sagaflow run" in this namespace`);
    this.name = 'NoEngineError';
  }
}

const encoder = new TextEncoder();

/** Serves operator requests (queue group `engine`: one running engine answers each). */
export function serveControl(connection: NatsConnection, names: Naming, handlers: ControlHandlers): { stop(): Promise<void> } {
  const serve = (request: string, answer: (data: Uint8Array) => Promise<unknown>): { subscription: Subscription; done: Promise<void> } => {
    const subscription = connection.subscribe(names.api(request), { queue: 'engine' });
    const done = (async () => {
      for await (const msg of subscription) msg.respond(encoder.encode(JSON.stringify(await answer(msg.data))));
    })();
    return { subscription, done };
  };
  const served = [
    serve('intervene', (data) => answerIntervention(data, handlers)),
    serve('ping', () => Promise.resolve({ ok: true, status: handlers.status() })),
  ];
  return {
    async stop() {
      for (const { subscription } of served) subscription.unsubscribe();
      await Promise.all(served.map(({ done }) => done));
    },
  };
}

async function answerIntervention(data: Uint8Array, handlers: ControlHandlers): Promise<InterventionAnswer> {
  const json = parseJson(data);
  if (E.isLeft(json)) return { ok: false, error: { tag: 'BadRequest', message: json.left } };
  const request = decodeWith(InterventionRequest, json.right);
  if (E.isLeft(request)) return { ok: false, error: { tag: 'BadRequest', message: `invalid intervention request: ${formatProblems(request.left)}` } };
  try {
    return await handlers.intervene(request.right);
  } catch (error) {
    const tag = (error as { _tag?: unknown } | null)?._tag;
    return { ok: false, error: { tag: typeof tag === 'string' ? tag : 'EngineError', message: error instanceof Error ? error.message : String(error) } };
  }
}

/** Asks a running engine how it is; throws {@link NoEngineError} when none answers. */
export async function pingEngine(connection: NatsConnection, names: Naming, timeoutMs = 5_000): Promise<EngineStatus> {
  const answer = (await ask(connection, names.api('ping'), {}, timeoutMs)) as { status: EngineStatus };
  return answer.status;
}

/** Asks the running engine to intervene; throws {@link NoEngineError} when none answers. */
export async function requestIntervention(connection: NatsConnection, names: Naming, request: InterventionRequest, timeoutMs = 10_000): Promise<InterventionAnswer> {
  return (await ask(connection, names.api('intervene'), request, timeoutMs)) as InterventionAnswer;
}

async function ask(connection: NatsConnection, subject: string, request: unknown, timeoutMs: number): Promise<unknown> {
  let reply;
  try {
    reply = await connection.request(subject, encoder.encode(JSON.stringify(request)), { timeout: timeoutMs });
  } catch (error) {
    if (error instanceof errors.NoRespondersError || (error instanceof errors.RequestError && error.isNoResponders())) throw new NoEngineError(subject, 'no engine is listening');
    if (error instanceof errors.TimeoutError) throw new NoEngineError(subject, `no answer within ${timeoutMs} ms`);
    throw error;
  }
  const json = parseJson(reply.data);
  if (E.isLeft(json)) throw new Error(`Unreadable answer from the engine: ${json.left}`);
  return json.right;
}
