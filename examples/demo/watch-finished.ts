import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { isSagaStatus, isTerminal, type EventStore, type SagaStatus } from '@sagaflow/core';
import type { Naming } from '@sagaflow/nats';

/** Instances that reached an end the demo waits for: terminal, or stuck (waiting for an operator). */
const finishes = (status: SagaStatus): boolean => isTerminal(status) || status === 'stuck';

/** The instances of a saga seen finishing, by their status. */
export interface FinishedWatch {
  readonly finished: ReadonlyMap<string, SagaStatus>;
  /**
   * Looks up in the store the `ids` not yet seen finishing: status announcements are best effort
   * (the log is the truth), so the demo checks the log when the announcements fall quiet.
   */
  reconcile(store: EventStore, ids: Iterable<string>): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Follows the status changes the engine announces on `<ns>.evt.<saga>.<status>` (the EVENTS
 * stream, through an ordered consumer) and calls `onChange` whenever an instance finishes.
 */
export async function watchFinished(
  connection: NatsConnection,
  names: Naming,
  saga: string,
  onChange: (finished: ReadonlyMap<string, SagaStatus>) => void,
): Promise<FinishedWatch> {
  const finished = new Map<string, SagaStatus>();
  const record = (instanceId: string, status: string): void => {
    if (!isSagaStatus(status) || !finishes(status) || finished.get(instanceId) === status) return;
    finished.set(instanceId, status);
    onChange(finished);
  };
  const consumer = await jetstream(connection).consumers.get(names.streams.events, { filter_subjects: names.event(saga, '*') });
  const messages = await consumer.consume();
  const loop = (async () => {
    for await (const message of messages) {
      try {
        const summary = message.json<{ instanceId?: unknown; status?: unknown }>();
        if (typeof summary.instanceId === 'string' && typeof summary.status === 'string') record(summary.instanceId, summary.status);
      } catch {
        // Not a listing row: not for us.
      }
    }
  })();
  return {
    finished,
    async reconcile(store, ids) {
      for (const id of ids) {
        if (finished.has(id)) continue;
        const summary = await store.getInstance(id);
        if (summary !== undefined) record(id, summary.status);
      }
    },
    async stop() {
      await messages.close();
      await loop;
    },
  };
}
