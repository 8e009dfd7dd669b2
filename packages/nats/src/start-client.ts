import type { JetStreamClient } from '@nats-io/jetstream';
import { partitionOf, type StartRequest } from '@sagaflow/core';
import { readNamespaceConfig } from './namespace-config.js';
import type { Naming } from './naming.js';
import { startMsgId, startRequestBody } from './protocol.js';
import { activeTraceHeaders, withTraceHeaders } from './trace-headers.js';

/** How a start request is published. */
export interface StartPublishOptions {
  /** How long to wait for JetStream's acknowledgement (default: the JetStream client's timeout). */
  readonly timeoutMs?: number;
}

/** A start request as it is published: subject, body and dedup id. */
export interface StartMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  /** `Nats-Msg-Id`: `<kind>:<instance id>`. */
  readonly msgId: string;
}

/**
 * The message of a start request: `<ns>.start.<saga>.<partition>` (without a partition count, the
 * subject without one, which the engine forwards), body `{ kind, instanceId, input?, startAt?, by?, reason? }`.
 * @throws TypeError for a saga name that is not a subject token, or a body JSON cannot hold.
 */
export function startMessage(names: Naming, request: StartRequest, partitions?: number): StartMessage {
  const subject = partitions === undefined ? names.start(request.saga) : names.start(request.saga, partitionOf(request.instanceId, partitions));
  return { subject, data: startRequestBody(request), msgId: startMsgId(request) };
}

/**
 * Publishes a start request to its partition's subject (the namespace's partition count is read once
 * per connection, within the same timeout) and resolves once JetStream has stored it. `<kind>:<instance id>` is
 * the dedup id, so repeating a request (after a timeout, say) is stored once within the stream's
 * duplicate window, and the engine treats a later repeat as the no-op it is.
 * Rejects when the request was not stored, or when no acknowledgement came (then it may or may not be stored).
 * @throws NoStartStreamError when no stream stores the namespace's start requests (nothing was stored).
 */
export async function publishStartRequest(js: JetStreamClient, names: Naming, request: StartRequest, options: StartPublishOptions = {}): Promise<void> {
  const config = await readNamespaceConfig(js, names, options.timeoutMs);
  const message = startMessage(names, request, config?.partitions);
  // Started inside a trace (an upstream request's span), the instance's span continues it.
  const headers = withTraceHeaders(undefined, activeTraceHeaders());
  try {
    await js.publish(message.subject, message.data, {
      msgID: message.msgId,
      ...(headers === undefined ? {} : { headers }),
      ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
    });
  } catch (error) {
    // The server answers "no responders" when no stream listens on the subject; nats.js reads that as
    // JetStream being off (its JetStreamNotEnabled, which the package does not export).
    if (error instanceof Error && error.name === 'JetStreamNotEnabled') throw new NoStartStreamError(names.namespace, message.subject, error);
    throw error;
  }
}

/**
 * No JetStream stream stores the namespace's start requests, so the request was not stored: the
 * engine creates the namespace's streams when it first runs, so none has run in this namespace yet
 * (or the namespace is not the engine's), or JetStream is off on the server.
 */
export class NoStartStreamError extends Error {
  readonly _tag = 'NoStartStream';
  constructor(
    readonly namespace: string,
    readonly subject: string,
    cause: unknown,
  ) {
    super(
      `No NATS stream stores start requests of namespace "${namespace}" (${subject}): run the engine once in this namespace ` +
        `(sagaflow run --namespace ${namespace}) to create its streams, or use the engine's namespace (or the server runs without JetStream: nats-server -js)`,
      { cause },
    );
    this.name = 'NoStartStreamError';
  }
}

/**
 * Asks the engine to start an instance, now or at `startAt` (epoch ms; a durable timer holds it
 * `pending` until then). Resolves once JetStream has stored the request; `start:<instance id>` is
 * the dedup id, so repeating the request starts it once.
 */
export async function requestStart(
  js: JetStreamClient,
  names: Naming,
  request: { readonly saga: string; readonly instanceId: string; readonly input: unknown; readonly startAt?: number },
  options: StartPublishOptions = {},
): Promise<void> {
  await publishStartRequest(js, names, { kind: 'start', ...request }, options);
}

/**
 * Two-phase start, phase one: asks the engine to record a `pending` instance that runs nothing
 * until confirmed. Call it before the local transaction; if it rejects, do not run the transaction
 * (the request may still have been stored: the check-back then cancels it, since no commit marker exists).
 */
export async function requestPrepare(
  js: JetStreamClient,
  names: Naming,
  request: { readonly saga: string; readonly instanceId: string; readonly input: unknown },
  options: StartPublishOptions = {},
): Promise<void> {
  await publishStartRequest(js, names, { kind: 'prepare', ...request }, options);
}

/** Two-phase start, phase two after a commit: the pending instance starts. Idempotent; if it is lost, the check-back confirms. */
export async function requestConfirm(
  js: JetStreamClient,
  names: Naming,
  request: { readonly saga: string; readonly instanceId: string; readonly by?: string },
  options: StartPublishOptions = {},
): Promise<void> {
  await publishStartRequest(js, names, { kind: 'confirm', ...request }, options);
}

/** Two-phase start, phase two after a rollback: the pending instance ends `cancelled`. Idempotent; if it is lost, the check-back cancels. */
export async function requestCancel(
  js: JetStreamClient,
  names: Naming,
  request: { readonly saga: string; readonly instanceId: string; readonly by?: string; readonly reason?: string },
  options: StartPublishOptions = {},
): Promise<void> {
  await publishStartRequest(js, names, { kind: 'cancel', ...request }, options);
}
