import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import * as t from 'io-ts';
import { createMemoryEventStore, createRegistry, saga, type EventStore, type SagaStatus } from '@sagaflow/core';
import { Engine } from '@sagaflow/engine';
import { createNatsTransport, naming, type NatsTransport } from '@sagaflow/nats';
import type { OutboxRelayEvent } from '../../src/index.js';
import { eventually, sleep } from '../../../../test/support/eventually.js';

export { eventually, sleep };

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the test run's NATS server (test/support/nats-global-setup.ts). */
    natsUrl: string;
  }
}

/** The saga the outbox tests start: one step, never answered (no worker), so an instance stays put where the test can count it. */
const transferSaga = saga('transfer', { version: 1, input: t.type({ from: t.string, to: t.string, amountCents: t.number }) });
const credit = transferSaga.step({
  name: 'credit',
  command: t.type({ to: t.string, amountCents: t.number }),
  reply: t.type({ ok: t.boolean }),
  toCommand: ({ input }) => ({ to: input.to, amountCents: input.amountCents }),
  timeoutMs: 60_000,
});
export const transfer = transferSaga.define([credit]);
export const registry = createRegistry([transfer]);

/** A namespace no other test uses. */
export const uniqueNamespace = (): string => `ob${randomBytes(5).toString('hex')}`;

/** An engine (in memory) listening on a namespace of the test run's NATS server, and the relay's log. */
export interface World {
  readonly namespace: string;
  readonly connection: NatsConnection;
  readonly store: EventStore;
  readonly transport: NatsTransport;
  readonly events: OutboxRelayEvent[];
  readonly log: (event: OutboxRelayEvent) => void;
  /** Instances the engine recorded, by status. */
  statuses(): Promise<Map<SagaStatus, number>>;
  /** Messages the start stream has taken in (stored, including those since consumed). */
  startsStored(): Promise<number>;
  /** Makes the start stream refuse every write (true) or take them again (false). */
  refuseStarts(refuse: boolean): Promise<void>;
  close(): Promise<void>;
}

export async function openWorld(natsUrl: string): Promise<World> {
  const namespace = uniqueNamespace();
  const connection = await connect({ servers: natsUrl });
  const store = createMemoryEventStore();
  const transport = await createNatsTransport({ connection, namespace, log: () => undefined });
  const engine = new Engine({ store, registry, transport, log: { info: () => undefined, warn: () => undefined, error: () => undefined } });
  await engine.start();
  const jsm = await jetstreamManager(connection);
  const names = naming(namespace);
  const events: OutboxRelayEvent[] = [];
  return {
    namespace,
    connection,
    store,
    transport,
    events,
    log: (event) => events.push(event),
    async statuses() {
      const counts = new Map<SagaStatus, number>();
      for (const row of await store.listInstances({ limit: 10_000 })) counts.set(row.status, (counts.get(row.status) ?? 0) + 1);
      return counts;
    },
    async startsStored() {
      return (await jsm.streams.info(names.streams.starts)).state.last_seq;
    },
    async refuseStarts(refuse) {
      await jsm.streams.update(names.streams.starts, { max_msg_size: refuse ? 1 : -1 });
    },
    async close() {
      await engine.stop();
      await transport.close();
      await connection.close();
    },
  };
}
