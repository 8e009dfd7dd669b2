import * as E from 'fp-ts/lib/Either.js';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { checkBackBody, checkBackQueue, decodeCheckBackRequest, naming, type CheckBackReply } from '@sagaflow/nats';

/** The upstream's local transaction, as the check-back reports it. */
export type CheckBackOutcome = 'committed' | 'rolledBack';

/** What a check-back responder serves, and how. */
export interface CheckBackServerOptions {
  readonly connection: NatsConnection;
  /** Subject namespace, as the engine's (default `sagaflow`). */
  readonly namespace?: string;
  /** The saga whose pending instances this service is the upstream of (its name, or its definition). */
  readonly saga: string | { readonly name: string };
  /**
   * Answers from the upstream's own database whether the local transaction that prepared
   * `instanceId` committed. Use the barrier's `checkBack(instanceId)`: it writes a rollback marker
   * when there is no commit marker, so a transaction still in progress can no longer commit.
   * A throw is answered as "cannot tell": the engine asks again later.
   */
  readonly check: (instanceId: string) => Promise<CheckBackOutcome> | CheckBackOutcome;
  /** Where problems are reported (default: stderr). */
  readonly log?: (message: string) => void;
}

/** A running check-back responder. */
export interface CheckBackServer {
  /** The subject it serves: `<ns>.checkback.<saga>`. */
  readonly subject: string;
  /** Stops taking check-backs and resolves once those in progress are answered. */
  stop(): Promise<void>;
}

/**
 * Serves the engine's check-backs for a saga's pending instances (core NATS request/reply on
 * `<ns>.checkback.<saga>`, queue group `checkback`: one process of the upstream answers each).
 * Resolves once the server has the subscription, so a check-back sent afterwards finds it.
 */
export async function serveCheckBack(options: CheckBackServerOptions): Promise<CheckBackServer> {
  const names = naming(options.namespace);
  const sagaName = typeof options.saga === 'string' ? options.saga : options.saga.name;
  const subject = names.checkBack(sagaName);
  const log = options.log ?? ((message: string) => process.stderr.write(`sagaflow check-back (${sagaName}): ${message}\n`));
  const subscription: Subscription = options.connection.subscribe(subject, { queue: checkBackQueue });
  const inFlight = new Set<Promise<void>>();

  const answer = async (data: Uint8Array, respond: (data: Uint8Array) => boolean): Promise<void> => {
    const request = decodeCheckBackRequest(data);
    let reply: CheckBackReply;
    if (E.isLeft(request)) {
      reply = { error: request.left };
    } else {
      try {
        const outcome = await options.check(request.right.instanceId);
        reply = outcome === 'committed' || outcome === 'rolledBack' ? { outcome } : { error: `check returned ${JSON.stringify(outcome)}, not committed or rolledBack` };
      } catch (error) {
        reply = { error: error instanceof Error ? error.message : String(error) };
      }
    }
    if ('error' in reply) log(`check-back not answered: ${reply.error}`);
    respond(checkBackBody(reply));
  };

  const loop = (async () => {
    for await (const msg of subscription) {
      const work = answer(msg.data, (data) => msg.respond(data));
      inFlight.add(work);
      void work.finally(() => inFlight.delete(work));
    }
  })();
  await options.connection.flush();

  return {
    subject,
    async stop() {
      if (!subscription.isClosed()) subscription.unsubscribe();
      await loop;
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}
