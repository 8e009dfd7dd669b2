import * as E from 'fp-ts/lib/Either.js';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { decodeWith, formatProblems, isStepFailure, type ReplyOutcome } from '@sagaflow/core';
import { effectOfMessage, parseJson, deadLetterMessage, readCommandEnvelope, traceHeadersOf, type CommandConsumer, type CommandEnvelope, type Naming, type StreamPublisher } from '@sagaflow/nats';
import type { EffectIdentity, LogFields, WorkerLog } from './handler.js';
import { startHeartbeat } from './heartbeat.js';
import type { Operation } from './operations.js';
import { publishReply } from './publish-reply.js';
import type { CommandOutcome, WorkerMetrics } from './worker-metrics.js';

/** What handling a command needs besides the message. */
export interface CommandScope {
  readonly js: JetStreamClient;
  /** Publishes replies to the replies stream. */
  readonly publisher: StreamPublisher;
  readonly names: Naming;
  readonly operation: Operation;
  /** The consumer the commands arrive on (its saga and operation), from which a compact command's identity follows. */
  readonly commands: CommandConsumer;
  readonly heartbeatMs: number;
  /** Delay before a command whose reply could not be published is redelivered. */
  readonly retryDelayMs: number;
  /** Aborted when the worker stops. */
  readonly signal: AbortSignal;
  readonly log: WorkerLog;
  /** Where the commands' outcomes and durations are counted, if anywhere. */
  readonly metrics?: WorkerMetrics;
}

/**
 * Handles one command message to the end: it is acknowledged once its reply (or its dead letter) is
 * stored, and handed back for redelivery when that fails or the worker stops under the handler.
 * Never rejects. The message's ack deadline is extended on a timer meanwhile.
 */
export async function handleCommand(msg: JsMsg, scope: CommandScope): Promise<void> {
  const heartbeat = startHeartbeat(msg, scope.heartbeatMs);
  const ended = scope.metrics?.began({ saga: scope.commands.saga, operation: scope.operation.name, kind: scope.operation.kind });
  let outcome: CommandOutcome = 'handed_back';
  try {
    const envelope = readCommandEnvelope(msg.headers, scope.commands);
    if (E.isLeft(envelope)) {
      outcome = 'dead_lettered';
      return await deadLetter(msg, scope, `undecodable command: ${envelope.left}`);
    }
    const misdelivered = misdelivery(envelope.right, scope);
    if (misdelivered !== null) {
      outcome = 'dead_lettered';
      return await deadLetter(msg, scope, misdelivered);
    }

    const { effect: e, replyTo } = envelope.right;
    const effect: EffectIdentity = {
      id: e.id,
      key: e.key,
      kind: e.kind,
      instanceId: e.instanceId,
      saga: e.saga,
      step: e.step,
      operation: e.operation,
      attempt: e.attempt,
    };
    const result = await tracedOutcome(msg, effect, scope, heartbeat.beat);
    if (result === handBack) {
      msg.nak();
      return;
    }
    if (await publishReply(scope.publisher, replyTo, effect, result, (line) => scope.log(line, fieldsOf(msg, scope)))) {
      outcome = result.ok ? 'succeeded' : 'failed';
      acknowledge(msg, scope);
    } else msg.nak(scope.retryDelayMs);
  } catch (error) {
    scope.log(`command ${describe(msg)} not handled, redelivering: ${messageOf(error)}`, fieldsOf(msg, scope));
    safely(() => msg.nak(scope.retryDelayMs));
  } finally {
    heartbeat.stop();
    ended?.(outcome);
  }
}

/** The worker's tracer: spans through the OpenTelemetry API, recorded once the application registers an SDK. */
const tracer = trace.getTracer('@sagaflow/worker');

/**
 * Runs the handler inside a span continuing the engine's attempt span (the W3C trace context in the
 * command's headers), so spans the handler makes are its children.
 */
async function tracedOutcome(msg: JsMsg, effect: EffectIdentity, scope: CommandScope, working: () => void): Promise<ReplyOutcome | typeof handBack> {
  const carried = traceHeadersOf(msg.headers);
  const parent = carried === undefined ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, carried);
  const span = tracer.startSpan(`handle ${scope.operation.name}`, { kind: SpanKind.CONSUMER }, parent);
  // Only a span an SDK records gets its attributes: without one (most deployments) the delivery count
  // alone, read from the message's ack subject, was ~3% of the worker's CPU.
  if (span.isRecording()) {
    span.setAttributes({
      'sagaflow.saga': effect.saga,
      'sagaflow.instance_id': effect.instanceId,
      'sagaflow.step': effect.step,
      'sagaflow.kind': effect.kind,
      'sagaflow.operation': effect.operation,
      'sagaflow.attempt': effect.attempt,
      'sagaflow.effect_id': effect.id,
      'messaging.system': 'nats',
      'messaging.destination.name': msg.subject,
      'messaging.message.delivery_count': msg.info.deliveryCount,
    });
  }
  try {
    const outcome = await context.with(trace.setSpan(parent, span), () => outcomeOf(msg.data, effect, scope, working));
    if (outcome === handBack) span.setAttribute('sagaflow.handed_back', true);
    else if (!outcome.ok) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: `${outcome.error.code}: ${outcome.error.message}` });
      span.setAttribute('sagaflow.error_code', outcome.error.code);
    }
    return outcome;
  } finally {
    span.end();
  }
}

/** The command was abandoned because the worker stopped: give it back rather than fail the attempt. */
const handBack = Symbol('handBack');

async function outcomeOf(data: Uint8Array, effect: EffectIdentity, scope: CommandScope, working: () => void): Promise<ReplyOutcome | typeof handBack> {
  const { operation, signal } = scope;
  const json = parseJson(data);
  const command = E.isLeft(json) ? json : E.mapLeft(formatProblems)(decodeWith(operation.command, json.right));
  if (E.isLeft(command)) {
    return { ok: false, error: { code: 'InvalidCommand', message: `invalid command for ${operation.name}: ${command.left}`, retryable: false } };
  }
  try {
    const reply = await operation.run(command.right, { effect, working, signal });
    return operation.kind === 'action' ? { ok: true, reply } : { ok: true };
  } catch (error) {
    if (isStepFailure(error)) return { ok: false, error: { code: error.code, message: error.message, retryable: error.retryable } };
    if (signal.aborted) return handBack;
    return { ok: false, error: { code: 'WorkerError', message: messageOf(error), retryable: true } };
  }
}

/** Why a command with readable headers does not belong on this consumer, or `null` if it does. */
function misdelivery({ effect, replyTo }: CommandEnvelope, { names, commands, operation }: CommandScope): string | null {
  const expected = { saga: commands.saga, operation: commands.operation, kind: operation.kind, step: operation.step };
  const actual = { saga: effect.saga, operation: effect.operation, kind: effect.kind, step: effect.step };
  const wrong = (Object.keys(expected) as (keyof typeof expected)[]).filter((field) => expected[field] !== actual[field]);
  if (wrong.length > 0) {
    const list = (o: typeof expected): string => wrong.map((field) => `${field} "${o[field]}"`).join(', ');
    return `misdelivered command: its headers name ${list(actual)}, but this consumer serves ${list(expected)}`;
  }
  const replies = `${names.namespace}.reply.`;
  if (!replyTo.startsWith(replies)) return `misdelivered command: reply subject "${replyTo}" is not under "${replies}"`;
  return null;
}

async function deadLetter(msg: JsMsg, scope: CommandScope, reason: string): Promise<void> {
  await deadLetterMessage(scope.js, scope.names, msg, reason);
  scope.log(`command ${describe(msg)} dead-lettered: ${reason}`, fieldsOf(msg, scope));
  acknowledge(msg, scope);
}

/**
 * Acknowledges, with the turn's other writes, without waiting for the server's confirmation: the reply
 * is already stored, so a lost acknowledgement only means a redelivery, whose (idempotent) handler runs
 * again and whose reply is deduplicated. Waiting would cost a round trip per command and change nothing.
 */
function acknowledge(msg: JsMsg, scope: CommandScope): void {
  scope.publisher.send(() => {
    try {
      msg.ack();
    } catch (error) {
      scope.log(`acknowledgement of command ${describe(msg)} not sent, it will be redelivered: ${messageOf(error)}`, fieldsOf(msg, scope));
    }
  });
}

const describe = (msg: JsMsg): string => `${msg.subject} #${msg.seq}`;

/** What a log line about a command is about: its saga, instance, step, effect and trace (from its headers). */
function fieldsOf(msg: JsMsg, scope: CommandScope): LogFields {
  const traceparent = msg.headers?.get('traceparent') ?? '';
  const traceId = /^[\da-f]{2}-([\da-f]{32})-/u.exec(traceparent)?.[1];
  const named = effectOfMessage(msg.headers);
  return { saga: scope.commands.saga, instanceId: named?.instanceId, step: scope.operation.step, effectId: named?.effectId, traceId };
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function safely(action: () => void): void {
  try {
    action();
  } catch {
    // The connection is gone: the server redelivers after the ack wait.
  }
}
