import type { MsgHdrs } from '@nats-io/transport-node';
import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import { header, republishedHeaders } from './protocol.js';
import type { Naming } from './naming.js';

/** A message given up on, as it was, with why. */
export interface DeadLetterInput {
  readonly originSubject: string;
  readonly data: Uint8Array;
  readonly headers?: MsgHdrs | undefined;
  readonly reason: string;
  readonly deliveries: number;
  readonly originStream?: string;
  readonly originSequence?: number;
  readonly at: number;
}

/** A stored dead letter. */
export interface DeadLetter {
  /** Sequence in the dead-letter stream: its id. */
  readonly sequence: number;
  readonly originSubject: string;
  readonly originStream: string | null;
  readonly originSequence: number | null;
  readonly reason: string;
  readonly deliveries: number;
  readonly deadAt: number;
  readonly instanceId: string | null;
  readonly effectId: string | null;
  /** Every header of the original message (ours added under `Sagaflow-Dead-*`/`Sagaflow-Origin-*`). */
  readonly headers: Readonly<Record<string, readonly string[]>>;
  readonly data: Uint8Array;
}

/**
 * Keeps a message in the dead-letter stream with its payload and headers intact (but its message id;
 * the effect a command or reply named by it is then spelled out as `Sagaflow-Instance`/`-Effect`). Idempotent for
 * a stream message (same origin stream and sequence), so a repeated advisory stores it once.
 */
export async function putDeadLetter(js: JetStreamClient, names: Naming, letter: DeadLetterInput): Promise<void> {
  const h = republishedHeaders(letter.headers);
  h.set(header.reason, letter.reason);
  h.set(header.deliveries, String(letter.deliveries));
  h.set(header.originSubject, letter.originSubject);
  h.set(header.deadAt, String(letter.at));
  if (letter.originStream !== undefined) h.set(header.originStream, letter.originStream);
  if (letter.originSequence !== undefined) h.set(header.originSequence, String(letter.originSequence));
  const msgID = letter.originStream !== undefined && letter.originSequence !== undefined ? `dlq:${letter.originStream}:${letter.originSequence}` : undefined;
  await js.publish(names.deadLetter(letter.originSubject), letter.data, { headers: h, ...(msgID === undefined ? {} : { msgID }) });
}

/** Keeps a delivered JetStream message as a dead letter, as it was, with the reason and its delivery count. */
export async function deadLetterMessage(js: JetStreamClient, names: Naming, msg: JsMsg, reason: string): Promise<void> {
  await putDeadLetter(js, names, {
    originSubject: msg.subject,
    data: msg.data,
    headers: msg.headers,
    reason,
    deliveries: msg.info.deliveryCount,
    originStream: msg.info.stream,
    originSequence: msg.seq,
    at: Date.now(),
  });
}

/** Dead letters in order of arrival, from sequence `after + 1`, at most `limit`. */
export async function listDeadLetters(jsm: JetStreamManager, names: Naming, options: { after?: number; limit?: number } = {}): Promise<DeadLetter[]> {
  const info = await jsm.streams.info(names.streams.deadLetters);
  const letters: DeadLetter[] = [];
  const limit = options.limit ?? 100;
  for (let seq = Math.max(info.state.first_seq, (options.after ?? 0) + 1); seq <= info.state.last_seq && letters.length < limit; seq++) {
    const letter = await getDeadLetter(jsm, names, seq);
    if (letter !== null) letters.push(letter);
  }
  return letters;
}

/** One dead letter by sequence, or `null` if there is none (never stored, or dropped). */
export async function getDeadLetter(jsm: JetStreamManager, names: Naming, sequence: number): Promise<DeadLetter | null> {
  let stored;
  try {
    stored = await jsm.streams.getMessage(names.streams.deadLetters, { seq: sequence });
  } catch {
    return null;
  }
  if (stored === null) return null;
  const headers: Record<string, string[]> = {};
  for (const [key, values] of stored.header) headers[key] = values;
  const one = (name: string): string | null => stored.header.get(name) || null;
  return {
    sequence: stored.seq,
    originSubject: one(header.originSubject) ?? stored.subject,
    originStream: one(header.originStream),
    originSequence: one(header.originSequence) === null ? null : Number(one(header.originSequence)),
    reason: one(header.reason) ?? '(no reason recorded)',
    deliveries: Number(one(header.deliveries) ?? 0),
    deadAt: Number(one(header.deadAt) ?? 0),
    instanceId: one(header.instance),
    effectId: one(header.effect),
    headers,
    data: stored.data,
  };
}
