/**
 * Subject and stream names. Everything lives under a namespace (default `sagaflow`), so several
 * deployments or test runs can share one NATS server without seeing each other.
 *
 * | stream | subjects | retention | what |
 * |---|---|---|---|
 * | `<NS>_COMMANDS` | `<ns>.cmd.<saga>.<operation>` | work queue | commands for workers, one durable consumer per operation |
 * | `<NS>_STARTS` | `<ns>.start.<saga>.<partition>` | work queue | start requests from clients (`start`, `prepare`, `confirm`, `cancel`; `Nats-Msg-Id` = `<kind>:<instance id>`), one durable consumer per partition (its owning engine) |
 * | `<NS>_REPLIES` | `<ns>.reply.<saga>.<partition>` | work queue | workers' replies, one durable consumer per partition (its owning engine) |
 * | `<NS>_EVENTS` | `<ns>.evt.<saga>.<status>` | limits (7 days) | instance status changes, for watchers |
 * | `<NS>_DLQ` | `<ns>.dlq.<origin…>` | limits (kept) | dead letters: payload, headers, reason, deliveries |
 * | `<NS>_ADVISORIES` | `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.<NS>_*.>` | limits | max-delivery advisories, kept until the engine handles them |
 *
 * A start request or reply without the partition token (`<ns>.start.<saga>`, `<ns>.reply.<saga>`: a
 * client or worker of an earlier Sagaflow) is stored too, and the engine doing the namespace-wide work
 * forwards it to its partition's subject.
 *
 * KV buckets: `<NS>_CONFIG` holds the namespace's fixed settings (partitions, lease TTL); `<NS>_CLUSTER`
 * (entries lapse after the lease TTL) holds the partition leases (`partition.<p>`: the owning engine)
 * and the engines' announcements (`engine.<id>`).
 *
 * Operator requests to the running engine use core NATS request/reply on `<ns>.api.<request>`; an
 * engine hands one to the engine owning the instance's partition on `<ns>.owner.<partition>`.
 * Check-backs (the engine asking a pending instance's upstream whether its local transaction
 * committed) use core NATS request/reply on `<ns>.checkback.<saga>`, served by the upstream
 * (queue group `checkback`).
 */
export interface Naming {
  readonly namespace: string;
  readonly streams: {
    readonly commands: string;
    readonly starts: string;
    readonly replies: string;
    readonly events: string;
    readonly deadLetters: string;
    readonly advisories: string;
  };
  readonly buckets: {
    /** The namespace's fixed settings (no TTL). */
    readonly config: string;
    /** Partition leases and engine announcements (entries lapse after the lease TTL). */
    readonly cluster: string;
  };
  /** Subject of the commands of one operation (a step or a compensation) of a saga. */
  command(saga: string, operation: string): string;
  /** Subject of the start requests of a saga; with `partition`, of those of one partition. */
  start(saga: string, partition?: number): string;
  /** Subject of the replies of a saga; with `partition`, of those of one partition. */
  reply(saga: string, partition?: number): string;
  /** Filter of a partition's start requests and replies, every saga's (`*`: every partition's). */
  partitionStarts(partition: number | '*'): string;
  partitionReplies(partition: number | '*'): string;
  /** Filter of the start requests and replies that carry no partition (clients and workers of an earlier Sagaflow). */
  readonly unroutedStarts: string;
  readonly unroutedReplies: string;
  /** Subject the engine owning a partition answers requests on (core NATS request/reply). */
  owner(partition: number): string;
  /** Subject of the check-backs of a saga's pending instances, served by their upstream (core NATS request/reply). */
  checkBack(saga: string): string;
  /** Subject of an operator request served by the running engine (core NATS request/reply). */
  api(request: string): string;
  /** Subject of an instance status change. */
  event(saga: string, status: string): string;
  /** Subject under which a dead letter from `originSubject` is kept. */
  deadLetter(originSubject: string): string;
  /** Durable consumer of an operation's commands, shared by all its workers. */
  operationConsumer(saga: string, operation: string): string;
  /** Durable consumers of a partition's replies and start requests, taken over by each new owner. */
  partitionReplyConsumer(partition: number): string;
  partitionStartConsumer(partition: number): string;
  /** Durable consumers of every partition's replies and start requests, of an engine holding them all. */
  readonly wideReplyConsumer: string;
  readonly wideStartConsumer: string;
  /** Durable consumers of the replies and start requests without a partition, forwarded to theirs. */
  readonly unroutedReplyConsumer: string;
  readonly unroutedStartConsumer: string;
  /** The single engine consumers of an earlier Sagaflow (every reply, every start request), replaced by the above. */
  readonly engineConsumer: string;
  readonly startConsumer: string;
  readonly advisoryConsumer: string;
  readonly deadLetterConsumer: string;
}

const token = /^[A-Za-z0-9_-]+$/;

/** Checks one subject token (no dots, wildcards or spaces). */
export function checkToken(kind: string, value: string): string {
  if (!token.test(value)) throw new TypeError(`Invalid ${kind} "${value}" for a NATS subject: use letters, digits, "_" and "-"`);
  return value;
}

/** The names under a namespace. */
export function naming(namespace = 'sagaflow'): Naming {
  checkToken('namespace', namespace);
  const NS = namespace.toUpperCase().replace(/-/g, '_');
  return {
    namespace,
    streams: {
      commands: `${NS}_COMMANDS`,
      starts: `${NS}_STARTS`,
      replies: `${NS}_REPLIES`,
      events: `${NS}_EVENTS`,
      deadLetters: `${NS}_DLQ`,
      advisories: `${NS}_ADVISORIES`,
    },
    buckets: { config: `${NS}_CONFIG`, cluster: `${NS}_CLUSTER` },
    command: (saga, operation) => `${namespace}.cmd.${checkToken('saga name', saga)}.${checkToken('operation', operation)}`,
    start: (saga, partition) => `${namespace}.start.${checkToken('saga name', saga)}${partition === undefined ? '' : `.${partition}`}`,
    reply: (saga, partition) => `${namespace}.reply.${checkToken('saga name', saga)}${partition === undefined ? '' : `.${partition}`}`,
    partitionStarts: (partition) => `${namespace}.start.*.${partition}`,
    partitionReplies: (partition) => `${namespace}.reply.*.${partition}`,
    unroutedStarts: `${namespace}.start.*`,
    unroutedReplies: `${namespace}.reply.*`,
    owner: (partition) => `${namespace}.owner.${partition}`,
    checkBack: (saga) => `${namespace}.checkback.${checkToken('saga name', saga)}`,
    api: (request) => `${namespace}.api.${checkToken('request', request)}`,
    event: (saga, status) => `${namespace}.evt.${checkToken('saga name', saga)}.${status}`,
    deadLetter: (originSubject) => `${namespace}.dlq.${originSubject.startsWith(`${namespace}.`) ? originSubject.slice(namespace.length + 1) : 'unknown'}`,
    operationConsumer: (saga, operation) => `${NS}_W_${checkToken('saga name', saga)}_${checkToken('operation', operation)}`,
    partitionReplyConsumer: (partition) => `${NS}_ENGINE_REPLIES_${partition}`,
    partitionStartConsumer: (partition) => `${NS}_ENGINE_STARTS_${partition}`,
    wideReplyConsumer: `${NS}_ENGINE_REPLIES_ALL`,
    wideStartConsumer: `${NS}_ENGINE_STARTS_ALL`,
    unroutedReplyConsumer: `${NS}_ENGINE_REPLIES_UNROUTED`,
    unroutedStartConsumer: `${NS}_ENGINE_STARTS_UNROUTED`,
    engineConsumer: `${NS}_ENGINE`,
    startConsumer: `${NS}_ENGINE_STARTS`,
    advisoryConsumer: `${NS}_ENGINE_ADVISORIES`,
    deadLetterConsumer: `${NS}_ENGINE_DLQ`,
  };
}
