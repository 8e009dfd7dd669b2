import type { JetStreamClient } from '@nats-io/jetstream';
import type { Naming } from './naming.js';
import { startBody } from './protocol.js';

/**
 * Asks the engine to start an instance. Resolves once JetStream has stored the request; the
 * instance id is the dedup id, so repeating the request (after a timeout, say) starts it once.
 */
export async function requestStart(js: JetStreamClient, names: Naming, request: { saga: string; instanceId: string; input: unknown }): Promise<void> {
  await js.publish(names.start(request.saga), startBody(request.instanceId, request.input), { msgID: `start:${request.instanceId}` });
}
