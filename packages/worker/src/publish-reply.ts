import { headers as natsHeaders } from '@nats-io/transport-node';
import type { ReplyOutcome } from '@sagaflow/core';
import { header, replyBody, type Naming, type StreamPublisher } from '@sagaflow/nats';
import type { EffectIdentity } from './handler.js';

/**
 * Stores the reply to an effect in the replies stream and waits for the server's acknowledgement.
 * The message id `reply:<effect id>` makes a second publish of the same attempt's reply (after a
 * redelivery) a no-op. Resolves to whether the reply is stored.
 */
export async function publishReply(
  publisher: StreamPublisher,
  names: Naming,
  replyTo: string,
  effect: EffectIdentity,
  outcome: ReplyOutcome,
  log: (message: string) => void,
): Promise<boolean> {
  const h = natsHeaders();
  h.set(header.instance, effect.instanceId);
  h.set(header.effect, effect.id);
  try {
    await publisher.publish(replyTo, body(effect, outcome), { msgID: `reply:${effect.id}`, headers: h, expectStream: names.streams.replies });
    return true;
  } catch (error) {
    log(`reply to ${effect.id} not stored, the command will be redelivered: ${error instanceof Error ? error.message : String(error)}`);
    return false;
  }
}

/** The reply body; a reply that is not JSON (a `bigint`, a cycle) becomes a retryable failure. */
function body(effect: EffectIdentity, outcome: ReplyOutcome): Uint8Array {
  try {
    return replyBody({ instanceId: effect.instanceId, effectId: effect.id, outcome });
  } catch (error) {
    const message = `the reply of ${effect.operation} is not JSON: ${error instanceof Error ? error.message : String(error)}`;
    return replyBody({ instanceId: effect.instanceId, effectId: effect.id, outcome: { ok: false, error: { code: 'WorkerError', message, retryable: true } } });
  }
}
