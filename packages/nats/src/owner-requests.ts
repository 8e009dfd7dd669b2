import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { errors, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { decodeWith, formatProblems, interventionActions, type DeadLetterNotice, type InstanceSummary, type Intervention, type InterventionAction } from '@sagaflow/core';
import type { Naming } from './naming.js';
import { parseJson } from './protocol.js';

/**
 * Requests for the engine owning a partition, from another engine: core NATS request/reply on
 * `<ns>.owner.<partition>`, subscribed by the owner only while it holds the partition. Used for
 * what reaches any engine but must be decided by the owner: operators' interventions (answered with
 * the outcome) and dead letters found by the engine doing the namespace-wide work.
 */
export const OwnerRequest = t.union([
  t.type({ kind: t.literal('deadLetter'), instanceId: t.string, effectId: t.string, reason: t.string }),
  t.intersection([
    t.type({
      kind: t.literal('intervene'),
      instanceId: t.string,
      action: t.keyof(Object.fromEntries(interventionActions.map((action) => [action, null])) as Record<InterventionAction, null>),
      by: t.string,
      reason: t.string,
    }),
    t.partial({ step: t.string }),
  ]),
]);
export type OwnerRequest = t.TypeOf<typeof OwnerRequest>;

/** The owner's answer: done (with the instance after an intervention), or why not. */
export type OwnerAnswer = { readonly ok: true; readonly summary?: InstanceSummary } | { readonly ok: false; readonly error: { readonly tag: string; readonly message: string } };

/** What the owner does with a request. */
export interface OwnerHandlers {
  deadLetter(notice: DeadLetterNotice): Promise<void>;
  intervene(intervention: Intervention): Promise<OwnerAnswer>;
}

/** Nobody holds the partition right now (it is changing hands, or no engine runs): try again shortly. */
export class NoOwnerError extends Error {
  readonly _tag = 'NoOwner';
  constructor(
    readonly partition: number,
    readonly reason: string,
  ) {
    super(`No engine holds partition ${partition} right now (${reason}): it is changing hands or no engine runs; try again shortly`);
    this.name = 'NoOwnerError';
  }
}

const encoder = new TextEncoder();

/** Serves a partition's owner requests until stopped. */
export function serveOwnerRequests(connection: NatsConnection, names: Naming, partition: number, handlers: OwnerHandlers): { stop(): Promise<void> } {
  const subscription: Subscription = connection.subscribe(names.owner(partition));
  const done = (async () => {
    for await (const msg of subscription) msg.respond(encoder.encode(JSON.stringify(await answer(msg.data, handlers))));
  })();
  return {
    async stop() {
      subscription.unsubscribe();
      await done;
    },
  };
}

async function answer(data: Uint8Array, handlers: OwnerHandlers): Promise<OwnerAnswer> {
  const json = parseJson(data);
  const request = E.isLeft(json) ? E.left(json.left) : E.mapLeft(formatProblems)(decodeWith(OwnerRequest, json.right));
  if (E.isLeft(request)) return { ok: false, error: { tag: 'BadRequest', message: `invalid owner request: ${request.left}` } };
  try {
    const { right } = request;
    if (right.kind === 'intervene') {
      const { kind: _kind, ...intervention } = right;
      return await handlers.intervene(intervention);
    }
    await handlers.deadLetter({ instanceId: right.instanceId, effectId: right.effectId, reason: right.reason });
    return { ok: true };
  } catch (error) {
    const tag = typeof (error as { _tag?: unknown })._tag === 'string' ? String((error as { _tag: string })._tag) : 'EngineError';
    return { ok: false, error: { tag, message: error instanceof Error ? error.message : String(error) } };
  }
}

/** Sends a request to the engine owning `partition`; throws {@link NoOwnerError} when none answers. */
export async function askOwner(connection: NatsConnection, names: Naming, partition: number, request: OwnerRequest, timeoutMs = 10_000): Promise<OwnerAnswer> {
  let reply;
  try {
    reply = await connection.request(names.owner(partition), encoder.encode(JSON.stringify(request)), { timeout: timeoutMs });
  } catch (error) {
    if (error instanceof errors.NoRespondersError || (error instanceof errors.RequestError && error.isNoResponders())) throw new NoOwnerError(partition, 'no engine answers for it');
    if (error instanceof errors.TimeoutError) throw new NoOwnerError(partition, `no answer within ${timeoutMs} ms`);
    throw error;
  }
  const json = parseJson(reply.data);
  if (E.isLeft(json)) throw new Error(`Unreadable answer from the owner of partition ${partition}: ${json.left}`);
  return json.right as OwnerAnswer;
}
