import type { ReplyOutcome } from '@sagaflow/core';
import { compactReplyBody, replyMsgId, type StreamPublisher } from '@sagaflow/nats';
import type { EffectIdentity } from './handler.js';

/**
 * Stores the reply to an effect in the replies stream and waits for the server's acknowledgement.
 * The reply is compact: its body is the outcome, and the message id `reply:<effect id>` names the
 * effect and makes a second publish of the same attempt's reply (after a redelivery) a no-op.
 * The reply subject is the saga's (checked to be under the namespace's replies when the command named
 * it), so the publish sets no expected stream: a subject no stream takes fails as "no responders".
 * Resolves to whether the reply is stored.
 */
export async function publishReply(
  publisher: StreamPublisher,
  replyTo: string,
  effect: EffectIdentity,
  outcome: ReplyOutcome,
  log: (message: string) => void,
): Promise<boolean> {
  try {
    await publisher.publish(replyTo, body(effect, outcome), { msgID: replyMsgId(effect.id) });
    return true;
  } catch (error) {
    log(`reply to ${effect.id} not stored, the command will be redelivered: ${error instanceof Error ? error.message : String(error)}`);
    return false;
  }
}

/** The reply body; a reply that is not JSON (a `bigint`, a cycle) becomes a retryable failure. */
function body(effect: EffectIdentity, outcome: ReplyOutcome): Uint8Array {
  try {
    return compactReplyBody(outcome);
  } catch (error) {
    const message = `the reply of ${effect.operation} is not JSON: ${error instanceof Error ? error.message : String(error)}`;
    return compactReplyBody({ ok: false, error: { code: 'WorkerError', message, retryable: true } });
  }
}
