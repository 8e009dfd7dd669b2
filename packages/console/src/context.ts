import type { NatsConnection } from '@nats-io/transport-node';
import type { EventStore, SagaRegistry } from '@sagaflow/core';
import type { Naming } from '@sagaflow/nats';
import type { FastifyReply } from 'fastify';
import type { AccessSettings } from './access.js';

/** What the console's routes read and act through. */
export interface ConsoleContext {
  readonly store: EventStore;
  readonly connection: NatsConnection;
  readonly names: Naming;
  /** The sagas loaded from the saga files, for diagrams and the Sagas page (`null` without them). */
  readonly registry: SagaRegistry | null;
  readonly access: AccessSettings;
  /** The trace link template (`{traceId}`), if the team gave one. */
  readonly traceUrl?: string;
}

/** An error answer: a status and one line for people, never a stack trace. */
export function refuse(reply: FastifyReply, status: number, tag: string, message: string, extra: Record<string, unknown> = {}): FastifyReply {
  return reply.code(status).send({ error: { tag, message, ...extra } });
}

/** An instance id as a path carries it: 1 to 300 characters. */
export const validId = (id: string): boolean => id.length > 0 && id.length <= 300;
