import { jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { millis, type NatsConnection } from '@nats-io/transport-node';
import { partitionOf, type AnyStep, type SagaDefinition, type Step } from '@sagaflow/core';
import { checkToken, ensureOperationConsumer, ensureStreams, naming, registerNatsMetrics, streamPublisher, type ConsumerSettings, type StreamPublisher, type Naming } from '@sagaflow/nats';
import type { Registry } from 'prom-client';
import { handleCommand } from './handle-command.js';
import type { CompensationHandler, StepHandler, WorkerLog } from './handler.js';
import { OperationTable } from './operations.js';
import { HandlerGate, whenAdmitted } from './handler-gate.js';
import { pullCap, pullCommands } from './pull-commands.js';
import { Slots } from './slots.js';
import { WorkerMetrics } from './worker-metrics.js';

/** What a worker serves, and how. */
export interface WorkerOptions<I> {
  readonly connection: NatsConnection;
  /** The saga whose steps (some or all) this worker implements. */
  readonly saga: SagaDefinition<I>;
  /** Subject and stream namespace, as the engine's (default `sagaflow`). */
  readonly namespace?: string;
  /** Settings of the operation consumers, shared by every worker of an operation. */
  readonly consumer?: ConsumerSettings;
  /** Commands handled at once, over all operations (default 100); each operation's pulls follow its demand. */
  readonly concurrency?: number;
  /**
   * Commands the worker may pull ahead of its handlers, over all operations (default: three times
   * `concurrency`). They wait in the worker for a free handler, in arrival order, their ack deadline
   * extended meanwhile; the room lets each pull ask for more commands, so a busy worker makes fewer,
   * larger pulls. 0 pulls a command only when a handler is free for it, which suits handlers that run
   * long enough for another worker to have taken the command sooner.
   */
  readonly prefetch?: number;
  /**
   * How often a running handler extends its command's ack deadline (default: a third of the
   * consumer's ack wait). 0 turns heartbeats off: a handler slower than the ack wait is then
   * redelivered while still running (handlers must be idempotent anyway).
   */
  readonly heartbeatMs?: number;
  /** Delay before a command whose reply could not be stored is redelivered (default 1000 ms). */
  readonly retryDelayMs?: number;
  /**
   * Where problems are reported (default: a line on stderr, the fields appended). Lines about a command
   * come with its saga, instance id, step, effect id and trace id as fields.
   */
  readonly log?: WorkerLog;
  /**
   * A prom-client registry to count this worker's commands in (`sagaflow_worker_*`, see
   * docs/observability.md), with the NATS connection's metrics; serve it with `serveMetrics`.
   */
  readonly metrics?: Registry;
}

/** A service's implementation of saga operations. Register handlers, then `start`. Its functions need no `this`. */
export interface Worker<I> {
  readonly saga: SagaDefinition<I>;
  readonly names: Naming;
  /**
   * Registers the handler of a step: it receives the step's decoded command and returns its reply.
   * Returns the worker, for chaining. Throws if the step is not one of the saga's, or already has a handler.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the compensation type of the step does not matter here
  readonly step: <C, R>(step: Step<I, C, R, any>, handler: StepHandler<NoInfer<C>, NoInfer<R>>) => Worker<I>;
  /**
   * Registers the handler of a step's compensation (operation `step.compensation.name`).
   * Throws if the step is not one of the saga's, has no compensation, or it already has a handler.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the step's own command and reply types do not matter here
  readonly compensation: <CC>(step: Step<I, any, any, CC>, handler: CompensationHandler<NoInfer<CC>>) => Worker<I>;
  /** Creates the streams and the operations' consumers (idempotently), then starts taking commands. */
  readonly start: () => Promise<void>;
  /** Stops taking commands, aborts `context.signal`, and resolves once the commands in progress are done. */
  readonly stop: () => Promise<void>;
}

const defaultConcurrency = 100;
/** Commands pulled ahead per handler slot by default: with 100 handlers, pulls of up to 400 ÷ operations (docs/benchmarks.md). */
const defaultPrefetchPerHandler = 3;
const serverDefaultAckWaitNanos = 30e9;

/**
 * Creates a worker for some operations of a saga. Each command is decoded with its step's codec,
 * handled while its ack deadline is extended, and acknowledged only once the reply is stored in
 * the replies stream; otherwise it is redelivered, so handlers must be idempotent (key a barrier on
 * `context.effect.key`). Commands that cannot be read are dead-lettered.
 */
export function createWorker<I>(options: WorkerOptions<I>): Worker<I> {
  const { connection, saga } = options;
  const names = naming(options.namespace);
  checkToken('saga name', saga.name);
  const concurrency = options.concurrency ?? defaultConcurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`Invalid concurrency ${concurrency}: a positive integer is required`);
  const prefetch = options.prefetch ?? defaultPrefetchPerHandler * concurrency;
  if (!Number.isInteger(prefetch) || prefetch < 0) throw new RangeError(`Invalid prefetch ${prefetch}: an integer >= 0 is required (0 pulls a command only when a handler is free)`);
  if (options.heartbeatMs !== undefined && !(options.heartbeatMs >= 0)) throw new RangeError(`Invalid heartbeatMs ${options.heartbeatMs}: must be >= 0 (0 turns heartbeats off)`);
  const retryDelayMs = options.retryDelayMs ?? 1000;
  if (!(retryDelayMs >= 0)) throw new RangeError(`Invalid retryDelayMs ${retryDelayMs}: must be >= 0`);
  const log: WorkerLog =
    options.log ??
    ((message, fields) => {
      const about = Object.entries(fields ?? {}).filter(([, value]) => value !== undefined);
      process.stderr.write(`sagaflow worker (${saga.name}): ${message}${about.length === 0 ? '' : ` [${about.map(([key, value]) => `${key}=${String(value)}`).join(' ')}]`}\n`);
    });
  const operations = new OperationTable(saga);
  const metrics = options.metrics === undefined ? undefined : WorkerMetrics.of(options.metrics);
  if (options.metrics !== undefined) registerNatsMetrics(connection, options.metrics);

  let phase: 'idle' | 'starting' | 'running' | 'stopped' = 'idle';
  let starting: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;
  const controller = new AbortController();
  // Commands asked for, held or in progress: the handlers' slots and the prefetch.
  const slots = new Slots(concurrency + prefetch);
  const handlers = new HandlerGate(concurrency);
  let publisher: StreamPublisher | undefined;
  const pulls: Promise<void>[] = [];
  const inFlight = new Set<Promise<void>>();

  const registering = (what: string): void => {
    if (phase !== 'idle') throw new Error(`Cannot register ${what} on the worker of saga "${saga.name}" once it has ${phase === 'stopped' ? 'stopped' : 'started'}`);
  };

  const track = (work: Promise<void>): Promise<void> => {
    inFlight.add(work);
    return work.finally(() => inFlight.delete(work));
  };

  const run = async (): Promise<void> => {
    const all = operations.all;
    if (all.length === 0) throw new Error(`The worker of saga "${saga.name}" has no handlers: register steps or compensations before start()`);
    const js = jetstream(connection);
    const jsm = await jetstreamManager(connection);
    const { partitions } = await ensureStreams(jsm, names);
    const served = [];
    for (const operation of all) {
      const durable = await ensureOperationConsumer(jsm, names, saga.name, operation.name, options.consumer);
      const consumer = await js.consumers.get(names.streams.commands, durable);
      const { config } = await consumer.info(true);
      const ackWaitMs = millis(config.ack_wait ?? serverDefaultAckWaitNanos);
      const heartbeatMs = options.heartbeatMs ?? Math.max(1, Math.floor(ackWaitMs / 3));
      if (heartbeatMs !== 0 && heartbeatMs >= ackWaitMs) {
        throw new RangeError(`heartbeatMs ${heartbeatMs} is not shorter than the ack wait (${ackWaitMs} ms) of consumer ${durable}: commands would be redelivered while in progress`);
      }
      const maxAckPending = config.max_ack_pending ?? -1;
      if (maxAckPending > 0 && maxAckPending < slots.size) {
        log(
          `consumer ${durable} allows ${maxAckPending} unacknowledged commands over all its workers, fewer than this worker's concurrency + prefetch (${slots.size}): ` +
            'its handlers may sit idle while commands wait in the stream; raise consumer.maxAckPending or lower prefetch',
        );
      }
      served.push({ operation, consumer, heartbeatMs });
    }
    if (controller.signal.aborted) return;
    const maxBatch = pullCap(slots.size, served.length);
    for (const { operation, consumer, heartbeatMs } of served) {
      publisher ??= streamPublisher(connection);
      // Each reply goes to the subject of its instance's partition, where the engine holding the partition listens.
      const commands = { saga: saga.name, operation: operation.name, replyTo: (instanceId: string) => names.reply(saga.name, partitionOf(instanceId, partitions)) };
      const scope = { js, publisher, names, operation, commands, heartbeatMs, retryDelayMs, signal: controller.signal, log, ...(metrics === undefined ? {} : { metrics }) };
      const labels = { saga: saga.name, operation: operation.name, kind: operation.kind };
      const admitted = whenAdmitted(handlers, heartbeatMs, (msg) => handleCommand(msg, scope), metrics === undefined ? undefined : () => metrics.held(labels));
      const handle = (msg: JsMsg): Promise<void> => track(admitted(msg));
      pulls.push(pullCommands({ consumer, slots, maxBatch, retryDelayMs, signal: controller.signal, log, handle }));
    }
  };

  const worker: Worker<I> = {
    saga,
    names,
    step(step, handler) {
      registering(`a handler for step "${step.name}"`);
      operations.addStep(step as AnyStep, handler as StepHandler<unknown, unknown>);
      return worker;
    },
    compensation(step, handler) {
      registering(`a compensation handler for step "${step.name}"`);
      operations.addCompensation(step as AnyStep, handler as CompensationHandler<unknown>);
      return worker;
    },
    start() {
      if (phase !== 'idle') return Promise.reject(new Error(`The worker of saga "${saga.name}" is already ${phase === 'stopped' ? 'stopped' : 'started'}`));
      phase = 'starting';
      starting = run().then(
        () => {
          if (phase === 'starting') phase = 'running';
        },
        (error: unknown) => {
          if (phase === 'starting') phase = 'idle';
          throw error;
        },
      );
      return starting;
    },
    stop() {
      stopping ??= (async () => {
        await starting?.catch(() => undefined);
        phase = 'stopped';
        controller.abort();
        slots.close();
        handlers.close();
        await Promise.allSettled(pulls);
        // Until the server has our unsubscriptions, it may still hand a command to a pull request of ours. A
        // drained pull (endPull) settled after its round trip; one stopped without a drain needs this one.
        if (pulls.length > 0) await connection.flush().catch(() => undefined);
        while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
        // The acknowledgements of the last commands are queued with the publisher's writes.
        await publisher?.flushed();
      })();
      return stopping;
    },
  };
  return worker;
}
