import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { inject } from 'vitest';
import { effectId, effectKey, type AnyStep, type DeadLetterNotice, type DispatchEffect, type Reply } from '@sagaflow/core';
import { createNatsTransport, naming, type CommandHeaderForm, type NatsTransport, type Naming } from '@sagaflow/nats';
import { createWorker, type Worker, type WorkerOptions } from '@sagaflow/worker';
import orderFulfilment, { type OrderInput } from '../../../../sagas/order-fulfilment.saga.js';
import { eventually, sleep } from '../../../../test/support/eventually.js';

export { eventually, sleep };

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the test run's NATS server (test/support/nats-global-setup.ts). */
    natsUrl: string;
  }
}

/** A namespace no other test uses. */
export const uniqueNamespace = (): string => `t${randomBytes(5).toString('hex')}`;

/**
 * One test's world on the shared NATS server: its own namespace, the engine's real transport
 * (collecting replies and dead-letter notices, unless told not to), and workers. `close` tears everything down.
 */
export interface Harness {
  readonly namespace: string;
  readonly names: Naming;
  readonly transport: NatsTransport;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly replies: Reply[];
  readonly deadLetterNotices: DeadLetterNotice[];
  readonly logs: string[];
  /** A new connection to the server, closed by `close`. */
  connect(): Promise<NatsConnection>;
  /** A worker of the order saga in this namespace, on its own connection unless one is given; stopped by `close`. */
  worker(options?: Partial<WorkerOptions<OrderInput>>): Promise<Worker<OrderInput>>;
  /** Dispatches as the engine does. */
  dispatch(effect: DispatchEffect): Promise<void>;
  /** The reply to `effect`, once it arrives. */
  replyTo(effect: DispatchEffect): Promise<Reply>;
  close(): Promise<void>;
}

export async function openHarness(options: { readonly collectReplies?: boolean; readonly commandHeaders?: CommandHeaderForm } = {}): Promise<Harness> {
  const url = inject('natsUrl');
  const namespace = uniqueNamespace();
  const names = naming(namespace);
  const connections: NatsConnection[] = [];
  const workers: Worker<OrderInput>[] = [];
  const logs: string[] = [];
  const open = async (): Promise<NatsConnection> => {
    const connection = await connect({ servers: url, name: `worker-test-${namespace}` });
    connections.push(connection);
    return connection;
  };
  const engineSide = await open();
  const transport = await createNatsTransport({
    connection: engineSide,
    namespace,
    log: (m) => logs.push(`transport: ${m}`),
    retryDelayMs: 100,
    ...(options.commandHeaders === undefined ? {} : { commandHeaders: options.commandHeaders }),
  });
  const replies: Reply[] = [];
  const deadLetterNotices: DeadLetterNotice[] = [];
  // The engine's reply consumer is shared by whoever listens: a test running a real engine must not collect.
  if (options.collectReplies ?? true) {
    await transport.listen({
      reply: (reply) => {
        replies.push(reply);
        return Promise.resolve({ accepted: true });
      },
      deadLetter: (notice) => {
        deadLetterNotices.push(notice);
        return Promise.resolve();
      },
      start: () => Promise.resolve({ accepted: false, reason: 'no engine behind this test transport' }),
    });
  }
  const jsm = await jetstreamManager(engineSide);
  return {
    namespace,
    names,
    transport,
    js: jetstream(engineSide),
    jsm,
    replies,
    deadLetterNotices,
    logs,
    connect: open,
    async worker(options = {}) {
      const worker = createWorker({
        saga: orderFulfilment,
        namespace,
        retryDelayMs: 100,
        log: (m, fields) => logs.push(`worker: ${m}${fields === undefined ? '' : ` ${JSON.stringify(fields)}`}`),
        ...options,
        connection: options.connection ?? (await open()),
      });
      workers.push(worker);
      return worker;
    },
    dispatch: (effect) => transport.dispatch(effect),
    replyTo: (effect) => eventually(() => replies.find((r) => r.effectId === effect.id), `the reply to ${effect.id}`),
    async close() {
      await Promise.allSettled(workers.map((w) => w.stop()));
      await transport.close();
      for (const stream of Object.values(names.streams)) await jsm.streams.delete(stream).catch(() => false);
      await Promise.allSettled(connections.map((c) => c.close()));
    },
  };
}

/** The command of one attempt of a step (or of its compensation) of the order saga, as the engine builds it. */
export function commandOf(step: AnyStep, command: unknown, options: { instanceId?: string; kind?: DispatchEffect['kind']; attempt?: number } = {}): DispatchEffect {
  const kind = options.kind ?? 'action';
  const instanceId = options.instanceId ?? `order-${randomBytes(4).toString('hex')}`;
  const attempt = options.attempt ?? 1;
  const operation = kind === 'action' ? step.name : step.compensation?.name;
  if (operation === undefined) throw new Error(`step ${step.name} has no compensation`);
  return {
    type: 'dispatch',
    id: effectId(instanceId, step.name, kind, attempt),
    key: effectKey(instanceId, step.name, kind),
    kind,
    saga: orderFulfilment.name,
    instanceId,
    step: step.name,
    operation,
    attempt,
    command,
  };
}
