import * as E from 'fp-ts/lib/Either.js';
import { jetstream, jetstreamManager, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { CheckBackEffect, DispatchEffect, InstanceSummary, Transport, TransportHandlers } from '@sagaflow/core';
import { askCheckBack } from './check-back.js';
import { deadLetterMessage, putDeadLetter } from './dead-letters.js';
import { naming, type Naming } from './naming.js';
import { commandBody, commandHeaders, decodeReply, decodeStart, header, parseJson, startRequestOf, type CommandHeaderForm } from './protocol.js';
import { streamPublisher } from './stream-publisher.js';
import { ensureEngineConsumers, ensureStreams, type ConsumerSettings } from './topology.js';

/** Options of the engine's NATS transport. */
export interface NatsTransportOptions {
  readonly connection: NatsConnection;
  /** Subject and stream namespace (default `sagaflow`). */
  readonly namespace?: string;
  readonly consumer?: ConsumerSettings;
  /** Replicas of each stream in a NATS cluster (1, 3 or 5; default 1). */
  readonly streamReplicas?: number;
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
}

/** The engine's transport over JetStream, with the names it uses. */
export interface NatsTransport extends Transport {
  readonly names: Naming;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
}

/** A max-deliveries advisory, as the server publishes it. */
interface MaxDeliveriesAdvisory {
  readonly stream: string;
  readonly consumer: string;
  readonly stream_seq: number;
  readonly deliveries: number;
}

/**
 * Creates the streams and the engine's consumers (idempotently), then dispatches commands with
 * `Nats-Msg-Id` = effect id and consumes start requests (start, prepare, confirm, cancel) and
 * replies with explicit acks: each is acknowledged only once the engine has recorded it.
 * Undecodable replies and messages past their delivery limit are moved to the dead letters; every
 * dead letter (also one a worker made) that names an effect is then recorded against its instance.
 * Check-backs are core NATS requests to the upstream on `<ns>.checkback.<saga>`.
 */
export async function createNatsTransport(options: NatsTransportOptions): Promise<NatsTransport> {
  const names = naming(options.namespace);
  const js = jetstream(options.connection);
  const jsm = await jetstreamManager(options.connection);
  await ensureStreams(jsm, names, options.streamReplicas);
  await ensureEngineConsumers(jsm, names, options.consumer);
  const log = options.log ?? ((message: string) => process.stderr.write(`sagaflow nats: ${message}\n`));
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const publisher = streamPublisher(options.connection);
  const loops: ConsumerMessages[] = [];
  const inFlight = new Set<Promise<void>>();

  const track = (work: Promise<void>): void => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };

  const deadLetter = (msg: JsMsg, reason: string): Promise<void> => deadLetterMessage(js, names, msg, reason);
  /** Acknowledges with the turn's other writes; if it is lost, the message comes back and is a no-op then. */
  const acknowledge = (msg: JsMsg): void => publisher.send(() => msg.ack());

  const onReply = async (msg: JsMsg, handlers: TransportHandlers): Promise<void> => {
    try {
      const reply = decodeReply(msg.data);
      if (E.isLeft(reply)) {
        await deadLetter(msg, `undecodable reply: ${reply.left}`);
        msg.ack();
        return;
      }
      const verdict = await handlers.reply(reply.right);
      if (!verdict.accepted) await deadLetter(msg, verdict.reason);
      acknowledge(msg);
    } catch (error) {
      log(`reply ${msg.seq} not recorded, redelivering: ${error instanceof Error ? error.message : String(error)}`);
      msg.nak(retryDelayMs);
    }
  };

  const onStart = async (msg: JsMsg, handlers: TransportHandlers): Promise<void> => {
    try {
      const saga = msg.subject.slice(`${names.namespace}.start.`.length);
      const request = decodeStart(msg.data);
      const verdict = E.isLeft(request)
        ? ({ accepted: false, reason: `undecodable start request: ${request.left}` } as const)
        : await handlers.start(startRequestOf(saga, request.right));
      if (!verdict.accepted) await deadLetter(msg, verdict.reason);
      acknowledge(msg);
    } catch (error) {
      log(`start request ${msg.seq} not recorded, redelivering: ${error instanceof Error ? error.message : String(error)}`);
      msg.nak(retryDelayMs);
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
        await jsm.streams.deleteMessage(advisory.stream, advisory.stream_seq).catch(() => false);
      }
      msg.ack();
    } catch (error) {
      log(`advisory ${msg.seq} not handled, redelivering: ${error instanceof Error ? error.message : String(error)}`);
      msg.nak(retryDelayMs);
    }
  };

  /** Every dead letter that names an awaited effect stops its instance, whoever made the letter. */
  const onDeadLetter = async (msg: JsMsg, handlers: TransportHandlers): Promise<void> => {
    try {
      const target = msg.headers?.get(header.effect) ? commandTarget(msg.headers) : replyTarget(msg.data);
      const reason = msg.headers?.get(header.reason) || 'dead-lettered';
      if (target !== null) await handlers.deadLetter({ ...target, reason });
      msg.ack();
    } catch (error) {
      log(`dead letter ${msg.seq} not recorded against its instance, redelivering: ${error instanceof Error ? error.message : String(error)}`);
      msg.nak(retryDelayMs);
    }
  };

  const pump = async (stream: string, durable: string, handle: (msg: JsMsg) => Promise<void>): Promise<void> => {
    const consumer = await js.consumers.get(stream, durable);
    const messages = await consumer.consume({ max_messages: 200 });
    loops.push(messages);
    void (async () => {
      for await (const msg of messages) track(handle(msg));
    })();
  };

  return {
    names,
    js,
    jsm,
    async dispatch(effect: DispatchEffect) {
      await publisher.publish(names.command(effect.saga, effect.operation), commandBody(effect), {
        msgID: effect.id,
        headers: commandHeaders(effect, names.reply(effect.saga), options.commandHeaders),
      });
    },
    async listen(handlers) {
      await pump(names.streams.replies, names.engineConsumer, (msg) => onReply(msg, handlers));
      await pump(names.streams.starts, names.startConsumer, (msg) => onStart(msg, handlers));
      await pump(names.streams.advisories, names.advisoryConsumer, onAdvisory);
      await pump(names.streams.deadLetters, names.deadLetterConsumer, (msg) => onDeadLetter(msg, handlers));
    },
    checkBack(effect: CheckBackEffect) {
      return askCheckBack(options.connection, names, effect, { timeoutMs: options.checkBackTimeoutMs ?? 5_000, log });
    },
    // Best effort, as the port says: a plain publish (the events stream still stores it) spares a
    // JetStream acknowledgement round trip per status change that nothing would wait for.
    announce(summary: InstanceSummary) {
      try {
        options.connection.publish(names.event(summary.saga, summary.status), JSON.stringify(summary));
      } catch (error) {
        log(`status change of ${summary.instanceId} not announced: ${error instanceof Error ? error.message : String(error)}`);
      }
    },
    async close() {
      for (const messages of loops.splice(0)) await messages.close();
      await Promise.allSettled([...inFlight]);
      // Make sure the server has seen the pulls end (or it may still hand them a message that then waits
      // out its ack wait) and the acknowledgements of the messages just handled.
      await publisher.flushed();
    },
  };
}

function commandTarget(h: { get(name: string): string } | undefined): { instanceId: string; effectId: string } | null {
  const instanceId = h?.get(header.instance);
  const effectId = h?.get(header.effect);
  return instanceId && effectId ? { instanceId, effectId } : null;
}

function replyTarget(data: Uint8Array): { instanceId: string; effectId: string } | null {
  const reply = decodeReply(data);
  return E.isRight(reply) ? { instanceId: reply.right.instanceId, effectId: reply.right.effectId } : null;
}
