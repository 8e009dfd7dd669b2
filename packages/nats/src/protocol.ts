import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import { decodeWith, effectIdParts, effectKey, formatProblems, instanceOfEffectId, type DispatchEffect, type Reply, type ReplyOutcome, type StartRequest } from '@sagaflow/core';

/**
 * Message headers. The effect's identity travels in headers, so a command whose body cannot be
 * decoded can still be answered (as a non-retryable failure) or dead-lettered against its instance:
 * in the `minimal` form of a command (see {@link CommandHeaderForm}) and in a reply, only as the message
 * id (`Nats-Msg-Id`: the effect id, or `reply:<effect id>`); `Sagaflow-Instance` and `-Effect` spell it
 * out in the other forms (and in a dead letter); `Sagaflow-Key`, `-Kind`, `-Saga`, `-Step`, `-Operation`,
 * `-Attempt` and `-Reply-To` are only in the `full` form.
 */
export const header = {
  msgId: 'Nats-Msg-Id',
  instance: 'Sagaflow-Instance',
  effect: 'Sagaflow-Effect',
  key: 'Sagaflow-Key',
  kind: 'Sagaflow-Kind',
  saga: 'Sagaflow-Saga',
  step: 'Sagaflow-Step',
  operation: 'Sagaflow-Operation',
  attempt: 'Sagaflow-Attempt',
  replyTo: 'Sagaflow-Reply-To',
  reason: 'Sagaflow-Dead-Reason',
  deliveries: 'Sagaflow-Deliveries',
  originSubject: 'Sagaflow-Origin-Subject',
  originStream: 'Sagaflow-Origin-Stream',
  originSequence: 'Sagaflow-Origin-Sequence',
  deadAt: 'Sagaflow-Dead-At',
} as const;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * How much of the effect's identity a command's headers spell out.
 * - `minimal` (the default): none beyond the message id every command has, the effect id
 *   `<instance>/<step>/<kind>/<attempt>` (step names hold no "/", so it is read from its end). The rest
 *   follows from it and from the consumer the command arrives on (one saga's operation), and the reply
 *   goes to that saga's reply subject. Workers before this form dead-letter it.
 * - `compact`: also the instance and the effect id as `Sagaflow-Instance` and `Sagaflow-Effect`, which
 *   workers read since the compact form came (the default before `minimal`).
 * - `full`: also the key, kind, saga, step, operation, attempt and reply subject, which every version
 *   reads.
 * An engine whose workers are not all upgraded yet sends the form the oldest of them reads.
 */
export type CommandHeaderForm = 'minimal' | 'compact' | 'full';

/** The command header forms, for option parsing. */
export const commandHeaderForms: readonly CommandHeaderForm[] = ['minimal', 'compact', 'full'];

const replyMsgIdPrefix = 'reply:';

/** The message id of the reply to an effect: a second publish of the same attempt's reply is stored once. */
export const replyMsgId = (effectId: string): string => `${replyMsgIdPrefix}${effectId}`;

/**
 * The instance and effect a command, reply or dead letter is about: from `Sagaflow-Instance` and
 * `Sagaflow-Effect` when it has them, else from its message id (`<effect id>` of a command,
 * `reply:<effect id>` of a reply); `null` when neither names an effect.
 */
export function effectOfMessage(h: MsgHdrs | undefined): { readonly instanceId: string; readonly effectId: string } | null {
  const instanceId = h?.get(header.instance) ?? '';
  const effectId = h?.get(header.effect) ?? '';
  if (instanceId !== '' && effectId !== '') return { instanceId, effectId };
  if (instanceId !== '' || effectId !== '') return null;
  const msgId = h?.get(header.msgId) ?? '';
  const id = msgId.startsWith(replyMsgIdPrefix) ? msgId.slice(replyMsgIdPrefix.length) : msgId;
  const instance = instanceOfEffectId(id);
  return instance === null ? null : { instanceId: instance, effectId: id };
}

/**
 * The headers a message keeps when it is published again under a message id of its own (a dead letter,
 * a forward to its partition): all but `Nats-Msg-Id`, with the effect the message id named (of a
 * command or reply in a compact form) spelled out as `Sagaflow-Instance` and `Sagaflow-Effect`.
 */
export function republishedHeaders(h: MsgHdrs | undefined): MsgHdrs {
  const kept = natsHeaders();
  for (const [key, values] of h ?? []) if (key !== header.msgId) for (const value of values) kept.append(key, value);
  const named = effectOfMessage(h);
  if (named !== null && !kept.has(header.effect)) {
    kept.set(header.instance, named.instanceId);
    kept.set(header.effect, named.effectId);
  }
  return kept;
}

/** The headers of a command message (`Nats-Msg-Id`, the effect id, is the publisher's). */
export function commandHeaders(effect: DispatchEffect, replyTo: string, form: CommandHeaderForm = 'minimal'): MsgHdrs {
  const h = natsHeaders();
  if (form === 'minimal') return h;
  h.set(header.instance, effect.instanceId);
  h.set(header.effect, effect.id);
  if (form === 'compact') return h;
  h.set(header.key, effect.key);
  h.set(header.kind, effect.kind);
  h.set(header.saga, effect.saga);
  h.set(header.step, effect.step);
  h.set(header.operation, effect.operation);
  h.set(header.attempt, String(effect.attempt));
  h.set(header.replyTo, replyTo);
  return h;
}

/** The body of a command message: the encoded command as JSON. */
export const commandBody = (effect: DispatchEffect): Uint8Array => encoder.encode(JSON.stringify(effect.command));

/** What a worker reads off a command message before decoding its body with the step's codec. */
export interface CommandEnvelope {
  readonly effect: Omit<DispatchEffect, 'command'>;
  readonly replyTo: string;
}

/** What a consumer of commands serves: the saga and operation of its subject, and where the saga's replies go. */
export interface CommandConsumer {
  readonly saga: string;
  readonly operation: string;
  /** The reply subject of an instance's commands (its partition's, in a namespace with partitions). */
  readonly replyTo: (instanceId: string) => string;
}

/**
 * Reads the effect identity of a command delivered on `consumer`, from headers of either form
 * ({@link CommandHeaderForm}); `Left` says what is missing or malformed. A compact command takes its
 * saga, operation and reply subject from the consumer, its step, kind and attempt from its effect id.
 */
export function readCommandEnvelope(h: MsgHdrs | undefined, consumer: CommandConsumer): E.Either<string, CommandEnvelope> {
  if ((h?.get(header.kind) ?? '') !== '') return readFullEnvelope(h);
  const named = effectOfMessage(h);
  if (named === null) {
    const missing = [header.instance, header.effect].filter((name) => (h?.get(name) ?? '') === '');
    const noId = missing.length === 2 ? `, and no ${header.msgId} of the form <instance>/<step>/<action|compensation>/<attempt>` : '';
    return E.left(`missing header(s) ${missing.join(', ')}${noId}`);
  }
  const { instanceId, effectId: id } = named;
  const parsed = effectIdParts(id, instanceId);
  if (parsed === null) return E.left(`header ${header.effect} is "${id}", expected ${instanceId}/<step>/<action|compensation>/<attempt>`);
  const { step, kind, attempt } = parsed;
  return E.right({
    effect: { type: 'dispatch', id, key: effectKey(instanceId, step, kind), kind, saga: consumer.saga, instanceId, step, operation: consumer.operation, attempt },
    replyTo: consumer.replyTo(instanceId),
  });
}

/** Reads a command's headers of the `full` form; `Left` names what is missing. */
function readFullEnvelope(h: MsgHdrs | undefined): E.Either<string, CommandEnvelope> {
  const get = (name: string): string => h?.get(name) ?? '';
  const missing = [header.instance, header.effect, header.key, header.kind, header.saga, header.step, header.operation, header.attempt, header.replyTo].filter(
    (name) => get(name) === '',
  );
  if (missing.length > 0) return E.left(`missing header(s) ${missing.join(', ')}`);
  const kind = get(header.kind);
  const attempt = Number(get(header.attempt));
  if (kind !== 'action' && kind !== 'compensation') return E.left(`header ${header.kind} is "${kind}", expected action or compensation`);
  if (!Number.isInteger(attempt) || attempt < 1) return E.left(`header ${header.attempt} is "${get(header.attempt)}", expected a positive integer`);
  return E.right({
    effect: {
      type: 'dispatch',
      id: get(header.effect),
      key: get(header.key),
      kind,
      saga: get(header.saga),
      instanceId: get(header.instance),
      step: get(header.step),
      operation: get(header.operation),
      attempt,
    },
    replyTo: get(header.replyTo),
  });
}

/** Parses a message body as JSON; `Left` says why it is not. */
export function parseJson(data: Uint8Array): E.Either<string, unknown> {
  try {
    return E.right(JSON.parse(decoder.decode(data)) as unknown);
  } catch (error) {
    return E.left(`body is not UTF-8 JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}

const ReplyOutcomeC = t.union([
  t.type({ ok: t.literal(true), reply: t.unknown }),
  t.type({ ok: t.literal(false), error: t.intersection([t.type({ code: t.string, message: t.string }), t.partial({ retryable: t.boolean })]) }),
]);
/** The body of a reply message of the envelope form (workers before compact replies): the effect's identity and its outcome. */
export const ReplyEnvelope = t.type({ instanceId: t.string, effectId: t.string, outcome: ReplyOutcomeC });

/** Encodes a reply in the envelope form, which every engine reads. */
export const replyBody = (reply: Reply): Uint8Array => encoder.encode(JSON.stringify(reply));

/**
 * Encodes a compact reply: the body is the outcome alone; the effect travels as the message id
 * `reply:<effect id>` ({@link replyMsgId}), which the publish must set. Engines read it since this form came.
 */
export const compactReplyBody = (outcome: ReplyOutcome): Uint8Array => encoder.encode(JSON.stringify(outcome));

/**
 * Reads a reply message of either form: an envelope body (`{ instanceId, effectId, outcome }`), or a
 * compact one (the outcome, the effect named by the message's headers: {@link effectOfMessage}).
 * `Left` gives a readable reason.
 */
export function readReply(h: MsgHdrs | undefined, data: Uint8Array): E.Either<string, Reply> {
  const json = parseJson(data);
  if (E.isLeft(json)) return json;
  const body = json.right;
  if (typeof body === 'object' && body !== null && 'outcome' in body) {
    const decoded = decodeWith(ReplyEnvelope, body);
    return E.isLeft(decoded) ? E.left(`reply envelope is invalid: ${formatProblems(decoded.left)}`) : E.right(decoded.right);
  }
  const named = effectOfMessage(h);
  if (named === null) return E.left(`reply names no effect: no envelope, no ${header.instance}/${header.effect} headers, no ${header.msgId} reply:<effect id>`);
  const outcome = decodeWith(ReplyOutcomeC, body);
  return E.isLeft(outcome) ? E.left(`reply outcome is invalid: ${formatProblems(outcome.left)}`) : E.right({ instanceId: named.instanceId, effectId: named.effectId, outcome: outcome.right });
}

/** Decodes a reply body; `Left` gives a readable reason. */
export function decodeReply(data: Uint8Array): E.Either<string, Reply> {
  const json = parseJson(data);
  if (E.isLeft(json)) return json;
  const decoded = decodeWith(ReplyEnvelope, json.right);
  return E.isLeft(decoded) ? E.left(`reply envelope is invalid: ${formatProblems(decoded.left)}`) : E.right(decoded.right);
}

/** What a start request asks of the engine: start an instance (now or at `startAt`), prepare one (two-phase start), or confirm or cancel a prepared one. */
export const startKinds = ['start', 'prepare', 'confirm', 'cancel'] as const;
export type StartKind = (typeof startKinds)[number];

/**
 * The body of a start request (the saga is in the subject): `{ kind, instanceId, input?, startAt?, by?, reason? }`.
 * A body without `kind` (from an older client) is a `start`.
 */
export const StartEnvelope = t.intersection([
  t.type({ instanceId: t.string }),
  t.partial({
    kind: t.keyof({ start: null, prepare: null, confirm: null, cancel: null }),
    input: t.unknown,
    startAt: t.number,
    by: t.string,
    reason: t.string,
  }),
]);
export type StartEnvelope = t.TypeOf<typeof StartEnvelope>;

type WithoutSaga<T> = T extends unknown ? Omit<T, 'saga'> : never;
/** A start request without its saga (which travels in the subject). */
export type StartRequestFields = WithoutSaga<StartRequest>;

/** The kind of a start request (`start` when it names none). */
export const startKindOf = (request: StartRequestFields): StartKind => request.kind ?? 'start';

/** A start request's dedup id (`Nats-Msg-Id`): `<kind>:<instance id>`, so a repeated request is stored once. */
export const startMsgId = (request: Pick<StartRequestFields, 'kind' | 'instanceId'>): string => `${request.kind ?? 'start'}:${request.instanceId}`;

/** The envelope of a start request (without the saga, which is in the subject). */
export function startEnvelopeOf(request: StartRequestFields): StartEnvelope {
  switch (request.kind) {
    case undefined:
    case 'start':
      return { kind: 'start', instanceId: request.instanceId, input: request.input, ...(request.startAt === undefined ? {} : { startAt: request.startAt }) };
    case 'prepare':
      return { kind: 'prepare', instanceId: request.instanceId, input: request.input };
    case 'confirm':
      return { kind: 'confirm', instanceId: request.instanceId, ...(request.by === undefined ? {} : { by: request.by }) };
    case 'cancel':
      return {
        kind: 'cancel',
        instanceId: request.instanceId,
        ...(request.by === undefined ? {} : { by: request.by }),
        ...(request.reason === undefined ? {} : { reason: request.reason }),
      };
  }
}

/**
 * Encodes a start request body.
 * @throws TypeError when JSON cannot represent the input (a BigInt, a cycle) or `startAt` is not a time.
 */
export function startRequestBody(request: StartRequestFields): Uint8Array {
  if ((request.kind === undefined || request.kind === 'start') && request.startAt !== undefined && !Number.isFinite(request.startAt)) {
    throw new TypeError(`Invalid startAt ${String(request.startAt)} for ${request.instanceId}: a time in epoch milliseconds is required`);
  }
  let text: string;
  try {
    text = JSON.stringify(startEnvelopeOf(request));
  } catch (error) {
    throw new TypeError(`The ${startKindOf(request)} request of ${request.instanceId} cannot be sent as JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  return encoder.encode(text);
}

/** Encodes the body of a plain start request. */
export const startBody = (instanceId: string, input: unknown): Uint8Array => startRequestBody({ kind: 'start', instanceId, input });

/** Decodes a start request body; `Left` gives a readable reason. */
export function decodeStart(data: Uint8Array): E.Either<string, StartEnvelope> {
  const json = parseJson(data);
  if (E.isLeft(json)) return json;
  const decoded = decodeWith(StartEnvelope, json.right);
  return E.isLeft(decoded) ? E.left(`start request is invalid: ${formatProblems(decoded.left)}`) : E.right(decoded.right);
}

/** The start request an envelope on the start subject of `saga` makes. */
export function startRequestOf(saga: string, envelope: StartEnvelope): StartRequest {
  const { instanceId } = envelope;
  switch (envelope.kind) {
    case undefined:
    case 'start':
      return { kind: 'start', saga, instanceId, input: envelope.input, ...(envelope.startAt === undefined ? {} : { startAt: envelope.startAt }) };
    case 'prepare':
      return { kind: 'prepare', saga, instanceId, input: envelope.input };
    case 'confirm':
      return { kind: 'confirm', saga, instanceId, ...(envelope.by === undefined ? {} : { by: envelope.by }) };
    case 'cancel':
      return { kind: 'cancel', saga, instanceId, ...(envelope.by === undefined ? {} : { by: envelope.by }), ...(envelope.reason === undefined ? {} : { reason: envelope.reason }) };
  }
}
