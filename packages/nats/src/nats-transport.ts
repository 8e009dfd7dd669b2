import * as E from 'fp-ts/lib/Either.js';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Counter, type Registry } from 'prom-client';
import {
  partitionOf,
  type CheckBackEffect,
  type DeadLetterNotice,
  type DispatchEffect,
  type InstanceSummary,
  type Intervention,
  type PartitionedTransport,
  type StartRequest,
  type TraceHeaders,
  type TransportHandlers,
} from '@sagaflow/core';
import { askCheckBack } from './check-back.js';
import type { InterventionAnswer } from './control.js';
import { deadLetterMessage, putDeadLetter } from './dead-letters.js';
import type { NamespaceConfig } from './namespace-config.js';
import { naming, type Naming } from './naming.js';
import { newLoops, pump, stopLoops, type Loops } from './consumer-loops.js';
import { askOwner, type OwnerAnswer } from './owner-requests.js';
import { PartitionIntake } from './partition-intake.js';
import { commandBody, commandHeaders, decodeReply, decodeStart, effectOfMessage, header, parseJson, readReply, republishedHeaders, startRequestOf, type CommandHeaderForm } from './protocol.js';
import { streamPublisher } from './stream-publisher.js';
import { traceHeadersOf, withTraceHeaders } from './trace-headers.js';
import { ensureSharedConsumers, ensureStreams, retireWholeNamespaceConsumers, type ConsumerSettings } from './topology.js';

/** Options of the engine's NATS transport. */
export interface NatsTransportOptions {
  readonly connection: NatsConnection;
  /** Subject and stream namespace (default `sagaflow`). */
  readonly namespace?: string;
  readonly consumer?: ConsumerSettings;
  /** Replicas of each stream and bucket in a NATS cluster (1, 3 or 5; default 1). */
  readonly streamReplicas?: number;
  /** Partitions of the namespace, when this engine creates it (default 32); an existing namespace keeps its own. */
  readonly partitions?: number;
  /** Lease TTL of the namespace, when this engine creates it (default 10 s); an existing namespace keeps its own. */
  readonly leaseTtlMs?: number;
  /** Where problems are reported (default: stderr). */
  readonly log?: (message: string) => void;
  /** Delay before a reply whose recording failed is redelivered (default 1000 ms). */
  readonly retryDelayMs?: number;
  /** How long a check-back waits for the upstream's answer (default 5000 ms); silence is asked again on the saga's check-back schedule. */
  readonly checkBackTimeoutMs?: number;
  /**
   * The headers commands carry (default `compact`). `full` while some workers still run an earlier
   * Sagaflow, which reads only that form; see {@link CommandHeaderForm}.
   */
  readonly commandHeaders?: CommandHeaderForm;
  /** A prom-client registry to count the messages this transport moves to the dead letters in (`sagaflow_transport_dead_letters_total`). */
  readonly metrics?: Registry;
}

/** The engine's transport over JetStream, with the names it uses. */
export interface NatsTransport extends PartitionedTransport {
  readonly names: Naming;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  /** The namespace's fixed settings. */
  readonly config: NamespaceConfig;
  /** The partitions this transport delivers now. */
  readonly listening: readonly number[];
  /**
   * Records an operator's intervention through the engine owning the instance's partition: this
   * engine's handlers when it holds the partition, the owner's (over NATS) otherwise.
   * @throws NoOwnerError when no engine holds the partition.
   */
  intervene(intervention: Intervention): Promise<InterventionAnswer>;
}


/** A start or prepare request with the trace context its message carried. */
function withTrace(request: StartRequest, trace: TraceHeaders | undefined): StartRequest {
  return trace !== undefined && (request.kind === undefined || request.kind === 'start' || request.kind === 'prepare') ? { ...request, trace } : request;
}

/** Why the engine's transport dead-lettered a message: the label of `sagaflow_transport_dead_letters_total`. */
type DeadLetterWhy = 'undecodable_reply' | 'refused_reply' | 'undecodable_start' | 'refused_start' | 'max_deliveries';

/** A max-deliveries advisory, as the server publishes it. */
interface MaxDeliveriesAdvisory {
  readonly stream: string;
  readonly consumer: string;
  readonly stream_seq: number;
  readonly deliveries: number;
}

/**
 * Creates the streams and the namespace's settings (idempotently), then dispatches commands with
 * `Nats-Msg-Id` = effect id and consumes start requests (start, prepare, confirm, cancel) and
 * replies by partition, with explicit acks: each is acknowledged only once the engine has recorded it.
 * Undecodable replies and messages past their delivery limit are moved to the dead letters; every
 * dead letter (also one a worker made) that names an effect is then recorded against its instance,
 * by the engine owning its partition. Check-backs are core NATS requests to the upstream on
 * `<ns>.checkback.<saga>`.
 *
 * An engine alone calls `listen` (every partition and the namespace-wide work); engines sharing the
 * namespace call `listenPartition` for the partitions they hold, and one of them `listenShared`.
 */
export async function createNatsTransport(options: NatsTransportOptions): Promise<NatsTransport> {
  const names = naming(options.namespace);
  const js = jetstream(options.connection);
  const jsm = await jetstreamManager(options.connection);
  const config = await ensureStreams(jsm, names, {
    ...(options.streamReplicas === undefined ? {} : { replicas: options.streamReplicas }),
    ...(options.partitions === undefined ? {} : { partitions: options.partitions }),
    ...(options.leaseTtlMs === undefined ? {} : { leaseTtlMs: options.leaseTtlMs }),
  });
  await retireWholeNamespaceConsumers(jsm, names);
  const log = options.log ?? ((message: string) => process.stderr.write(`sagaflow nats: ${message}\n`));
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const publisher = streamPublisher(options.connection);
  /** The namespace-wide work, while this transport does it. */
  let shared: Loops | null = null;
  const partitionOfInstance = (instanceId: string): number => partitionOf(instanceId, config.partitions);

  const deadLettered =
    options.metrics === undefined
      ? undefined
      : new Counter({
          name: 'sagaflow_transport_dead_letters_total',
          help: 'Start requests, replies and undeliverable commands the engine moved to the dead letters, by why',
          labelNames: ['reason'],
          registers: [options.metrics],
        });
  /** Moves a message to the dead letters; `why` is the bounded label, `reason` the letter's text. */
  const deadLetter = (msg: JsMsg, reason: string, why: DeadLetterWhy): Promise<void> => {
    deadLettered?.inc({ reason: why });
    return deadLetterMessage(js, names, msg, reason);
  };
  /**
   * Hands a message back for redelivery. An input of a partition this engine has just stopped holding is
   * the expected case of a handover (its new owner takes the partition's consumer over): not logged.
   */
  const redeliver = (msg: JsMsg, what: string, error: unknown): void => {
    if ((error as { _tag?: unknown } | null)?._tag !== 'NotOwner') log(`${what} not recorded, redelivering: ${error instanceof Error ? error.message : String(error)}`);
    msg.nak(retryDelayMs);
  };
  /** Acknowledges with the turn's other writes; if it is lost, the message comes back and is a no-op then. */
  const acknowledge = (msg: JsMsg): void => publisher.send(() => msg.ack());

  const onReply = async (msg: JsMsg, handlers: TransportHandlers): Promise<void> => {
    try {
      const reply = readReply(msg.headers, msg.data);
      if (E.isLeft(reply)) {
        await deadLetter(msg, `undecodable reply: ${reply.left}`, 'undecodable_reply');
        msg.ack();
        return;
      }
      const verdict = await handlers.reply(reply.right);
      if (!verdict.accepted) await deadLetter(msg, verdict.reason, 'refused_reply');
      acknowledge(msg);
    } catch (error) {
      redeliver(msg, `reply ${msg.seq}`, error);
    }
  };

  const onStart = async (msg: JsMsg, handlers: TransportHandlers): Promise<void> => {
    try {
      // `<ns>.start.<saga>.<partition>`: the saga is the token after `start`.
      const saga = msg.subject.slice(`${names.namespace}.start.`.length).split('.')[0] ?? '';
      const request = decodeStart(msg.data);
      const verdict = E.isLeft(request)
        ? ({ accepted: false, reason: `undecodable start request: ${request.left}` } as const)
        : await handlers.start(withTrace(startRequestOf(saga, request.right), traceHeadersOf(msg.headers)));
      if (!verdict.accepted) await deadLetter(msg, verdict.reason, E.isLeft(request) ? 'undecodable_start' : 'refused_start');
      acknowledge(msg);
    } catch (error) {
      redeliver(msg, `start request ${msg.seq}`, error);
    }
  };

  const onAdvisory = async (msg: JsMsg): Promise<void> => {
    try {
      const parsed = parseJson(msg.data);
      const advisory = E.isRight(parsed) ? (parsed.right as Partial<MaxDeliveriesAdvisory>) : {};
      if (typeof advisory.stream !== 'string' || typeof advisory.stream_seq !== 'number') {
        log(`ignoring an advisory that is not a max-deliveries advisory: ${msg.subject}`);
        msg.ack();
        return;
      }
      const stored = await jsm.streams.getMessage(advisory.stream, { seq: advisory.stream_seq }).catch(() => null);
      if (stored !== null) {
        const reason = `delivered ${advisory.deliveries ?? '?'} times without acknowledgement (consumer ${advisory.consumer ?? '?'})`;
        await putDeadLetter(js, names, {
          originSubject: stored.subject,
          data: stored.data,
          headers: stored.header,
          reason,
          deliveries: advisory.deliveries ?? 0,
          originStream: advisory.stream,
          originSequence: advisory.stream_seq,
          at: Date.now(),
        });
        deadLettered?.inc({ reason: 'max_deliveries' });
        await jsm.streams.deleteMessage(advisory.stream, advisory.stream_seq).catch(() => false);
      }
      msg.ack();
    } catch (error) {
      log(`advisory ${msg.seq} not handled, redelivering: ${error instanceof Error ? error.message : String(error)}`);
      msg.nak(retryDelayMs);
    }
  };

  /** Records a dead letter against its instance, by the engine owning the instance's partition. */
  const routeDeadLetter = async (notice: DeadLetterNotice): Promise<void> => {
    const partition = partitionOfInstance(notice.instanceId);
    const local = intake.handlersOf(partition);
    if (local !== undefined) return local.deadLetter(notice);
    const answer = await askOwner(options.connection, names, partition, { kind: 'deadLetter', ...notice });
    if (!answer.ok) throw new Error(`the owner of partition ${partition} did not record it: ${answer.error.message}`);
  };

  /** Every dead letter that names an awaited effect stops its instance, whoever made the letter. */
  const onDeadLetter = async (msg: JsMsg): Promise<void> => {
    try {
      const target = effectOfMessage(msg.headers) ?? replyTarget(msg.data);
      const reason = msg.headers?.get(header.reason) || 'dead-lettered';
      if (target !== null) await routeDeadLetter({ ...target, reason });
      msg.ack();
    } catch (error) {
      log(`dead letter ${msg.seq} not recorded against its instance, redelivering: ${error instanceof Error ? error.message : String(error)}`);
      msg.nak(retryDelayMs);
    }
  };

  /**
   * Forwards a start request or reply published without a partition (by a client or worker of an
   * earlier Sagaflow) to its partition's subject, then acknowledges it. The forward has a message id of
   * its own (the original's is in the same stream's duplicate window) derived from the original's place
   * in the stream, so a forward repeated after a crash is stored once.
   */
  const forwardUnrouted = async (msg: JsMsg, kind: 'start' | 'reply'): Promise<void> => {
    try {
      const saga = msg.subject.slice(`${names.namespace}.${kind}.`.length);
      const decoded = kind === 'start' ? E.map((request: { instanceId: string }) => request.instanceId)(decodeStart(msg.data)) : E.map((reply: { instanceId: string }) => reply.instanceId)(readReply(msg.headers, msg.data));
      if (E.isLeft(decoded)) {
        await deadLetter(msg, `undecodable ${kind === 'start' ? 'start request' : 'reply'}: ${decoded.left}`, kind === 'start' ? 'undecodable_start' : 'undecodable_reply');
        msg.ack();
        return;
      }
      const partition = partitionOfInstance(decoded.right);
      const h = republishedHeaders(msg.headers);
      const subject = kind === 'start' ? names.start(saga, partition) : names.reply(saga, partition);
      await publisher.publish(subject, msg.data, { headers: h, msgID: `forward:${msg.info.stream}:${msg.seq}` });
      acknowledge(msg);
    } catch (error) {
      log(`${kind} ${msg.seq} without a partition not forwarded, redelivering: ${error instanceof Error ? error.message : String(error)}`);
      msg.nak(retryDelayMs);
    }
  };

  const intake = new PartitionIntake({
    connection: options.connection,
    js,
    jsm,
    names,
    partitions: config.partitions,
    consumer: options.consumer,
    onReply,
    onStart,
    notHeld: (msg) => msg.nak(retryDelayMs),
    ownerHandlers: (handlers) => ({ deadLetter: (notice) => handlers.deadLetter(notice), intervene: (intervention) => interveneHere(handlers, intervention) }),
  });

  const listenShared = async (): Promise<void> => {
    if (shared !== null) return;
    await ensureSharedConsumers(jsm, names, options.consumer);
    const work = newLoops();
    shared = work;
    await pump(js, names.streams.replies, names.unroutedReplyConsumer, work, (msg) => forwardUnrouted(msg, 'reply'));
    await pump(js, names.streams.starts, names.unroutedStartConsumer, work, (msg) => forwardUnrouted(msg, 'start'));
    await pump(js, names.streams.advisories, names.advisoryConsumer, work, onAdvisory);
    await pump(js, names.streams.deadLetters, names.deadLetterConsumer, work, onDeadLetter);
  };

  const unlistenShared = async (): Promise<void> => {
    const work = shared;
    shared = null;
    if (work !== null) await stopLoops(work);
  };

  return {
    names,
    js,
    jsm,
    async dispatch(effect: DispatchEffect, trace?: TraceHeaders) {
      const h = commandHeaders(effect, names.reply(effect.saga, partitionOfInstance(effect.instanceId)), options.commandHeaders);
      await publisher.publish(names.command(effect.saga, effect.operation), commandBody(effect), { msgID: effect.id, headers: withTraceHeaders(h, trace) ?? h });
    },
    config,
    partitions: config.partitions,
    get listening() {
      return intake.listening;
    },
    async listen(handlers) {
      await intake.listen(
        Array.from({ length: config.partitions }, (_, partition) => partition),
        handlers,
      );
      await listenShared();
    },
    listenPartitions: (partitions, handlers) => intake.listen(partitions, handlers),
    unlistenPartition: (partition) => intake.unlisten(partition),
    listenShared,
    unlistenShared,
    async intervene(intervention) {
      const partition = partitionOfInstance(intervention.instanceId);
      const local = intake.handlersOf(partition);
      const answer = local !== undefined ? await interveneHere(local, intervention) : await askOwner(options.connection, names, partition, { kind: 'intervene', ...intervention });
      if (answer.ok && answer.summary === undefined) return { ok: false, error: { tag: 'EngineError', message: `the owner of partition ${partition} answered without the instance` } };
      return answer as InterventionAnswer;
    },
    checkBack(effect: CheckBackEffect) {
      return askCheckBack(options.connection, names, effect, { timeoutMs: options.checkBackTimeoutMs ?? 5_000, log });
    },
    // Best effort, as the port says: a plain publish (the events stream still stores it) spares a
    // JetStream acknowledgement round trip per status change that nothing would wait for. Queued with the
    // commands and acknowledgements of the same commit, so they share its socket write: published at once,
    // the status changes of a commit cost a write of their own.
    announce(summary: InstanceSummary) {
      const subject = names.event(summary.saga, summary.status);
      const body = JSON.stringify(summary);
      publisher.send(() => {
        try {
          options.connection.publish(subject, body);
        } catch (error) {
          log(`status change of ${summary.instanceId} not announced: ${error instanceof Error ? error.message : String(error)}`);
        }
      });
    },
    async close() {
      await intake.close();
      await unlistenShared();
      // Make sure the server has seen the pulls end (or it may still hand them a message that then waits
      // out its ack wait) and the acknowledgements of the messages just handled.
      await publisher.flushed();
    },
  };
}

/** An intervention decided by these handlers, as the answer an operator gets. */
async function interveneHere(handlers: TransportHandlers, intervention: Intervention): Promise<OwnerAnswer> {
  if (handlers.intervene === undefined) return { ok: false, error: { tag: 'Unsupported', message: 'this engine takes no interventions' } };
  const result = await handlers.intervene(intervention);
  return E.isRight(result) ? { ok: true, summary: result.right } : { ok: false, error: { tag: result.left._tag, message: result.left.message } };
}

/** The effect a dead-lettered reply without identity headers names in its body (an envelope). */
function replyTarget(data: Uint8Array): { instanceId: string; effectId: string } | null {
  const reply = decodeReply(data);
  return E.isRight(reply) ? { instanceId: reply.right.instanceId, effectId: reply.right.effectId } : null;
}
