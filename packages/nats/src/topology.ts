import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { ensureNamespaceConfig, wantedConfig, type NamespaceConfig, type NamespaceSettings } from './namespace-config.js';
import type { Naming } from './naming.js';

/** Tuning of the durable consumers; the defaults suit most deployments. */
export interface ConsumerSettings {
  /** How long a delivered message may go unacknowledged before redelivery (workers heartbeat meanwhile). */
  readonly ackWaitMs?: number;
  /** Deliveries before a message is given up and dead-lettered. */
  readonly maxDeliver?: number;
  /**
   * Messages delivered and not yet acknowledged, over all the consumer's clients (default 10,000 for the
   * operations' consumers: room for 25 workers holding `concurrency + prefetch` = 400 commands each).
   */
  readonly maxAckPending?: number;
}

const day = 24 * 60 * 60 * 1000;

/**
 * The streams every deployment needs, with their fixed configuration; `replicas` for a NATS cluster (1, 3
 * or 5). Without `replicas`, a stream is created with one and an existing one keeps its own, so a
 * process that does not say (a worker) never undoes the replicas the engine set.
 */
export function streamConfigs(names: Naming, replicas?: number): WithName<StreamConfig>[] {
  if (replicas !== undefined && ![1, 3, 5].includes(replicas)) throw new TypeError(`Invalid stream replicas ${replicas}: use 1, 3 or 5`);
  const ns = names.namespace;
  const file = { storage: StorageType.File, ...(replicas === undefined ? {} : { num_replicas: replicas }) };
  return [
    {
      name: names.streams.commands,
      subjects: [`${ns}.cmd.>`],
      retention: RetentionPolicy.Workqueue,
      duplicate_window: nanos(2 * 60 * 1000),
      ...file,
    },
    { name: names.streams.starts, subjects: [`${ns}.start.>`], retention: RetentionPolicy.Workqueue, duplicate_window: nanos(2 * 60 * 1000), ...file },
    { name: names.streams.replies, subjects: [`${ns}.reply.>`], retention: RetentionPolicy.Workqueue, duplicate_window: nanos(2 * 60 * 1000), ...file },
    { name: names.streams.events, subjects: [`${ns}.evt.>`], retention: RetentionPolicy.Limits, max_age: nanos(7 * day), ...file },
    { name: names.streams.deadLetters, subjects: [`${ns}.dlq.>`], retention: RetentionPolicy.Limits, duplicate_window: nanos(2 * 60 * 1000), ...file },
    {
      name: names.streams.advisories,
      subjects: [names.streams.commands, names.streams.starts, names.streams.replies].map((stream) => `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.*`),
      retention: RetentionPolicy.Limits,
      max_age: nanos(7 * day),
      ...file,
    },
  ];
}

type WithName<T> = Partial<T> & { name: string };

/**
 * Creates a stream, or brings an existing one to this configuration. Safe to run concurrently: when
 * another process creates the same stream at the same moment, the server may refuse this creation as
 * overlapping that stream's subjects; the stream then exists under this name and is updated instead.
 * A stream of another name that holds the subjects is an error that names it.
 */
export async function ensureStream(jsm: JetStreamManager, config: WithName<StreamConfig>): Promise<void> {
  try {
    await jsm.streams.add(config);
  } catch (error) {
    if (isSubjectOverlap(error)) await refuseOverlap(jsm, config, error);
    else if (!isAlreadyInUse(error)) throw error;
    const { name, retention: _fixed, storage: _alsoFixed, ...mutable } = config;
    await jsm.streams.update(name, mutable);
  }
}

/** Returns when the overlapping stream is `config`'s own (created meanwhile); throws, naming the other stream, when it is not. */
async function refuseOverlap(jsm: JetStreamManager, config: WithName<StreamConfig>, overlap: unknown): Promise<void> {
  const subjects = config.subjects ?? [];
  const holders = await Promise.all(subjects.map((subject) => jsm.streams.find(subject).catch(() => null)));
  const other = holders.find((holder) => holder !== null && holder !== config.name);
  if (other === undefined && holders.includes(config.name)) return;
  throw new StreamConflictError(config.name, subjects, typeof other === 'string' ? other : undefined, overlap);
}

/** A stream Sagaflow needs cannot be made because a stream of another name holds its subjects. */
export class StreamConflictError extends Error {
  readonly _tag = 'StreamConflict';
  constructor(
    /** The stream Sagaflow needs. */
    readonly stream: string,
    readonly subjects: readonly string[],
    /** The stream holding the subjects, when the server names it. */
    readonly holder: string | undefined,
    cause: unknown,
  ) {
    super(
      `NATS stream ${stream} cannot take subjects ${subjects.join(', ')}: ${holder === undefined ? 'another stream' : `stream ${holder}`} already holds them. ` +
        'Use another namespace, or remove that stream if nothing needs it.',
      { cause },
    );
    this.name = 'StreamConflictError';
  }
}

/**
 * Creates a durable pull consumer; an existing one is brought to this configuration unless
 * `update` is false (so a process started without settings does not undo tuned ones). Safe to run concurrently.
 */
export async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  config: Partial<ConsumerConfig> & { durable_name: string },
  update = true,
): Promise<void> {
  try {
    await jsm.consumers.add(stream, config);
  } catch (error) {
    if (!isAlreadyInUse(error)) throw error;
    if (!update) return;
    const { durable_name, deliver_policy: _fixed, filter_subject: _alsoFixed, ...mutable } = config;
    await jsm.consumers.update(stream, durable_name, mutable);
  }
}

/** JetStream's error code for subjects that another stream already takes. */
const subjectOverlapCode = 10065;
const isSubjectOverlap = (error: unknown): boolean => error instanceof JetStreamApiError && error.code === subjectOverlapCode;

const isAlreadyInUse = (error: unknown): boolean =>
  error instanceof JetStreamApiError && /already in use|already exists|consumer name already/i.test(error.message);

/**
 * The streams of a namespace and its fixed settings (engine and workers both call this): the first
 * caller fixes the partition count and lease TTL, given in `settings` or the defaults.
 * @throws NamespaceConfigError when `settings` name a partition count or TTL other than the namespace's.
 */
export async function ensureStreams(jsm: JetStreamManager, names: Naming, settings: NamespaceSettings = {}): Promise<NamespaceConfig> {
  wantedConfig(settings);
  for (const config of streamConfigs(names, settings.replicas)) await ensureStream(jsm, config);
  return ensureNamespaceConfig(jsm.jetstream(), names, settings);
}

const consumerDefaults = (settings: ConsumerSettings) => ({
  ack_policy: AckPolicy.Explicit,
  deliver_policy: DeliverPolicy.All,
  ack_wait: nanos(settings.ackWaitMs ?? 30_000),
  max_deliver: settings.maxDeliver ?? 5,
  max_ack_pending: settings.maxAckPending ?? 1000,
});

const intakeDefaults = (settings: ConsumerSettings) => consumerDefaults({ maxDeliver: 20, maxAckPending: 10_000, ...settings });

/**
 * An operation's consumer: commands a worker holds for its handlers (its prefetch) count as pending too,
 * and with 1,000 three workers' holdings left a fourth none to run while a backlog waited.
 */
const operationDefaults = (settings: ConsumerSettings) => consumerDefaults({ ...settings, maxAckPending: settings.maxAckPending ?? 10_000 });

/**
 * A partition's consumers of replies and start requests, made afresh for its new owner: the old ones
 * are deleted first, so what the previous owner was handed and did not acknowledge is delivered again
 * at once (the streams are work queues: what is acknowledged is gone), and a previous owner still
 * pulling from them is cut off.
 */
export async function renewPartitionConsumers(jsm: JetStreamManager, names: Naming, partition: number, settings: ConsumerSettings = {}): Promise<void> {
  // An engine that held every partition took them in through one consumer per stream, which overlaps this one.
  await deleteWideConsumers(jsm, names);
  const consumers = [
    { stream: names.streams.replies, durable_name: names.partitionReplyConsumer(partition), filter_subject: names.partitionReplies(partition) },
    { stream: names.streams.starts, durable_name: names.partitionStartConsumer(partition), filter_subject: names.partitionStarts(partition) },
  ];
  for (const { stream, ...config } of consumers) {
    await deleteConsumer(jsm, stream, config.durable_name);
    await jsm.consumers.add(stream, { ...config, ...intakeDefaults(settings) });
  }
}

/**
 * The consumers of an engine holding every partition: one per stream over all partitions' subjects,
 * made afresh (after the partitions' own, which overlap them, are deleted). Every consumer a stream has
 * costs the NATS server work per message; one instead of one per partition keeps a lone engine's cost
 * that of a single consumer.
 */
export async function renewWideConsumers(jsm: JetStreamManager, names: Naming, partitions: number, settings: ConsumerSettings = {}): Promise<void> {
  for (let partition = 0; partition < partitions; partition++) {
    await deleteConsumer(jsm, names.streams.replies, names.partitionReplyConsumer(partition));
    await deleteConsumer(jsm, names.streams.starts, names.partitionStartConsumer(partition));
  }
  await deleteWideConsumers(jsm, names);
  await jsm.consumers.add(names.streams.replies, { durable_name: names.wideReplyConsumer, filter_subject: names.partitionReplies('*'), ...intakeDefaults(settings) });
  await jsm.consumers.add(names.streams.starts, { durable_name: names.wideStartConsumer, filter_subject: names.partitionStarts('*'), ...intakeDefaults(settings) });
}

/** Deletes the consumers over every partition (left by an engine that held them all), if there are any. */
export async function deleteWideConsumers(jsm: JetStreamManager, names: Naming): Promise<void> {
  await deleteConsumer(jsm, names.streams.replies, names.wideReplyConsumer);
  await deleteConsumer(jsm, names.streams.starts, names.wideStartConsumer);
}

async function deleteConsumer(jsm: JetStreamManager, stream: string, durable: string): Promise<void> {
  try {
    await jsm.consumers.delete(stream, durable);
  } catch (error) {
    if (!(error instanceof JetStreamApiError && /consumer not found/i.test(error.message))) throw error;
  }
}

/**
 * Removes the single reply and start consumers of an earlier Sagaflow (filter `<ns>.reply.>`,
 * `<ns>.start.>`), which would overlap the partitions' and which a work-queue stream does not allow
 * beside them. What they held unacknowledged stays in the streams for the partitions' consumers.
 */
export async function retireWholeNamespaceConsumers(jsm: JetStreamManager, names: Naming): Promise<void> {
  await deleteConsumer(jsm, names.streams.replies, names.engineConsumer);
  await deleteConsumer(jsm, names.streams.starts, names.startConsumer);
}

/**
 * The consumers of the namespace-wide work, done by one engine: start requests and replies without a
 * partition (forwarded to theirs), max-delivery advisories, and dead letters.
 */
export async function ensureSharedConsumers(jsm: JetStreamManager, names: Naming, settings: ConsumerSettings = {}): Promise<void> {
  await ensureConsumer(jsm, names.streams.replies, { durable_name: names.unroutedReplyConsumer, filter_subject: names.unroutedReplies, ...intakeDefaults(settings) });
  await ensureConsumer(jsm, names.streams.starts, { durable_name: names.unroutedStartConsumer, filter_subject: names.unroutedStarts, ...intakeDefaults(settings) });
  await ensureConsumer(jsm, names.streams.advisories, {
    durable_name: names.advisoryConsumer,
    ...consumerDefaults({ maxDeliver: 100, ...settings }),
  });
  await ensureConsumer(jsm, names.streams.deadLetters, {
    durable_name: names.deadLetterConsumer,
    ...consumerDefaults({ maxDeliver: 100, ...settings }),
  });
}

/** The consumer an operation's workers share; given `settings` are applied to an existing one too. */
export async function ensureOperationConsumer(
  jsm: JetStreamManager,
  names: Naming,
  saga: string,
  operation: string,
  settings?: ConsumerSettings,
): Promise<string> {
  const durable = names.operationConsumer(saga, operation);
  await ensureConsumer(
    jsm,
    names.streams.commands,
    { durable_name: durable, filter_subject: names.command(saga, operation), ...operationDefaults(settings ?? {}) },
    settings !== undefined,
  );
  return durable;
}
