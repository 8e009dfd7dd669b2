import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { getDeadLetter, type DeadLetter } from './dead-letters.js';
import type { Naming } from './naming.js';
import { header } from './protocol.js';

/**
 * What operators do with a dead letter, shared by `sagaflow dlq` and the console: read its payload,
 * send it back where it came from, or drop it.
 */

/** The dead letter does not exist: never stored, or already replayed or dropped. */
export class DeadLetterGoneError extends Error {
  readonly _tag = 'DeadLetterGone';
  constructor(
    readonly sequence: number,
    readonly stream: string,
    /** The stream's last sequence, when the letter was never stored (a sequence beyond it). */
    readonly lastSequence: number | null,
  ) {
    super(
      lastSequence !== null && sequence > lastSequence
        ? `No dead letter ${sequence} in ${stream}: its last sequence is ${lastSequence}`
        : `Dead letter ${sequence} is gone from ${stream}: already replayed or dropped`,
    );
    this.name = 'DeadLetterGoneError';
  }
}

/** A payload for people: UTF-8 text when it is printable text, else hex. */
export interface PayloadView {
  readonly size: number;
  readonly encoding: 'utf8' | 'hex';
  readonly text: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function payloadView(data: Uint8Array): PayloadView {
  try {
    const text = utf8.decode(data);
    // eslint-disable-next-line no-control-regex -- control characters (other than tab and line breaks) make a payload binary
    if (!/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) return { size: data.length, encoding: 'utf8', text };
  } catch {
    // not UTF-8
  }
  return { size: data.length, encoding: 'hex', text: [...data].map((byte) => byte.toString(16).padStart(2, '0')).join('') };
}

/** The letter, or {@link DeadLetterGoneError}. */
export async function deadLetterOrGone(jsm: JetStreamManager, names: Naming, sequence: number): Promise<DeadLetter> {
  const letter = await getDeadLetter(jsm, names, sequence);
  if (letter !== null) return letter;
  const info = await jsm.streams.info(names.streams.deadLetters);
  throw new DeadLetterGoneError(sequence, names.streams.deadLetters, info.state.last_seq);
}

/** Headers the dead-letter stream added, and JetStream's own: not part of the original message. */
const addedHeaders = new Set(
  [header.reason, header.deliveries, header.originSubject, header.originStream, header.originSequence, header.deadAt].map((name) => name.toLowerCase()),
);

/** Where a replayed letter went. */
export interface Replayed {
  readonly sequence: number;
  readonly replayedTo: string;
  readonly msgId: string;
  readonly stream: string;
  readonly streamSequence: number;
  /** The stream had it already, from an earlier replay within its duplicate window. */
  readonly duplicate: boolean;
}

/**
 * Publishes a dead letter again to its original subject, with its original headers and the message id
 * `replay:<sequence>` (a repeated replay is stored once), then deletes it from the dead letters.
 * @throws DeadLetterGoneError when there is no such letter.
 */
export async function replayDeadLetter(js: JetStreamClient, jsm: JetStreamManager, names: Naming, sequence: number): Promise<Replayed> {
  const letter = await deadLetterOrGone(jsm, names, sequence);
  const original = natsHeaders();
  for (const [name, values] of Object.entries(letter.headers)) {
    if (addedHeaders.has(name.toLowerCase()) || name.toLowerCase().startsWith('nats-')) continue;
    for (const value of values) original.append(name, value);
  }
  const msgId = `replay:${sequence}`;
  let ack;
  try {
    ack = await js.publish(letter.originSubject, letter.data, { headers: original, msgID: msgId });
  } catch (error) {
    throw new Error(`Cannot replay dead letter ${sequence} to ${letter.originSubject}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  await jsm.streams.deleteMessage(names.streams.deadLetters, sequence);
  return { sequence, replayedTo: letter.originSubject, msgId, stream: ack.stream, streamSequence: ack.seq, duplicate: ack.duplicate };
}

/**
 * Deletes a dead letter for good.
 * @throws DeadLetterGoneError when there is no such letter.
 */
export async function dropDeadLetter(jsm: JetStreamManager, names: Naming, sequence: number): Promise<void> {
  await deadLetterOrGone(jsm, names, sequence);
  await jsm.streams.deleteMessage(names.streams.deadLetters, sequence);
}
