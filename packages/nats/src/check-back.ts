import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import type { NatsConnection } from '@nats-io/transport-node';
import { decodeWith, formatProblems, type CheckBackAnswer, type CheckBackEffect } from '@sagaflow/core';
import type { Naming } from './naming.js';
import { parseJson } from './protocol.js';

/**
 * Check-back: the engine asks the upstream of a pending (prepared) instance whether its local
 * transaction committed. Core NATS request/reply on `<ns>.checkback.<saga>`, served by the
 * upstream in queue group {@link checkBackQueue}.
 */

/** The question: `{ instanceId, attempt }`. */
export const CheckBackRequest = t.type({ instanceId: t.string, attempt: t.number });
export type CheckBackRequest = t.TypeOf<typeof CheckBackRequest>;

/** The upstream's answer: the outcome, or why it could not tell (the engine asks again later). */
export const CheckBackReply = t.union([t.type({ outcome: t.keyof({ committed: null, rolledBack: null }) }), t.type({ error: t.string })]);
export type CheckBackReply = t.TypeOf<typeof CheckBackReply>;

/** Queue group of the check-back responders: one upstream process answers each check-back. */
export const checkBackQueue = 'checkback';

const encoder = new TextEncoder();

/** Encodes a check-back request or reply. */
export const checkBackBody = (message: CheckBackRequest | CheckBackReply): Uint8Array => encoder.encode(JSON.stringify(message));

/** Decodes a check-back request; `Left` gives a readable reason. */
export function decodeCheckBackRequest(data: Uint8Array): E.Either<string, CheckBackRequest> {
  const json = parseJson(data);
  if (E.isLeft(json)) return json;
  const decoded = decodeWith(CheckBackRequest, json.right);
  return E.isLeft(decoded) ? E.left(`check-back request is invalid: ${formatProblems(decoded.left)}`) : E.right(decoded.right);
}

/** Decodes a check-back reply; `Left` gives a readable reason. */
export function decodeCheckBackReply(data: Uint8Array): E.Either<string, CheckBackReply> {
  const json = parseJson(data);
  if (E.isLeft(json)) return json;
  const decoded = decodeWith(CheckBackReply, json.right);
  return E.isLeft(decoded) ? E.left(`check-back reply is invalid: ${formatProblems(decoded.left)}`) : E.right(decoded.right);
}

/**
 * Asks the upstream of a pending instance. Resolves with its answer, or `null` when there is none
 * (no responder, no answer within `timeoutMs`, an unreadable answer, or the upstream could not
 * tell); `log` says which. Never rejects: the engine asks again on its check-back schedule.
 */
export async function askCheckBack(
  connection: NatsConnection,
  names: Naming,
  effect: Pick<CheckBackEffect, 'saga' | 'instanceId' | 'attempt'>,
  options: { readonly timeoutMs: number; readonly log: (message: string) => void },
): Promise<CheckBackAnswer> {
  const subject = names.checkBack(effect.saga);
  let reply;
  try {
    reply = await connection.request(subject, checkBackBody({ instanceId: effect.instanceId, attempt: effect.attempt }), { timeout: options.timeoutMs });
  } catch (error) {
    options.log(`check-back ${effect.attempt} of ${effect.instanceId} on ${subject} unanswered: ${describeRequestError(error, options.timeoutMs)}`);
    return null;
  }
  const decoded = decodeCheckBackReply(reply.data);
  if (E.isLeft(decoded)) {
    options.log(`check-back ${effect.attempt} of ${effect.instanceId}: ${decoded.left}`);
    return null;
  }
  if ('error' in decoded.right) {
    options.log(`check-back ${effect.attempt} of ${effect.instanceId}: the upstream could not tell (${decoded.right.error})`);
    return null;
  }
  return decoded.right.outcome;
}

function describeRequestError(error: unknown, timeoutMs: number): string {
  const text = [error, error instanceof Error ? error.cause : undefined].map((e) => (e instanceof Error ? `${e.name} ${e.message}` : '')).join(' ');
  if (/no ?responders/i.test(text)) return 'no upstream is serving check-backs';
  if (/timeout/i.test(text)) return `no answer within ${timeoutMs} ms`;
  return error instanceof Error ? error.message : String(error);
}
