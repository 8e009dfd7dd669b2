import * as E from 'fp-ts/lib/Either.js';
import {
  decide,
  decodeStream,
  effectIdParts,
  encodeEvent,
  isTerminal,
  noStream,
  outstandingEffects,
  replay,
  sagaError,
  summaryOf,
  WrongExpectedRevisionError,
  type DispatchEffect,
  type Effect,
  type EventStore,
  type InstanceState,
  type InstanceSummary,
  type InterventionAction,
  type DeadLetterNotice,
  type Reply,
  type StartRequest,
  type CheckBackEffect,
  type ReplyVerdict,
  type Transport,
  type SagaError,
  type SagaInput,
  type SagaRegistry,
  type Intervention,
  type TransportHandlers,
  type TraceHeaders,
  type SagaTrace,
  NotOwnerError,
} from '@sagaflow/core';
import { AppendBatcher } from './append-batcher.js';
import type { EngineObserver } from './engine-observer.js';
import type { EngineTracing } from './engine-tracing.js';
import { InstanceMailbox } from './instance-mailbox.js';
import { systemClock, TimerService, type Clock } from './timer-service.js';

/**
 * Where the engine reports what it does; the default writes warnings and errors to stderr. A line about
 * an instance comes with its fields (saga, instanceId, step, effectId, traceId) for a structured logger.
 */
export interface EngineLog {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** What a log line is about. */
export type LogFields = Readonly<Record<string, string | number | undefined>>;

/** What an engine runs on. */
export interface EngineOptions {
  readonly store: EventStore;
  readonly registry: SagaRegistry;
  readonly transport: Transport;
  readonly clock?: Clock;
  readonly log?: EngineLog;
  /** Times a decision is retried after losing a concurrent append (default 10). */
  readonly maxConflictRetries?: number;
  /** Delay before a dispatch the transport refused is tried again (default 1000 ms). */
  readonly redispatchDelayMs?: number;
  /**
   * Which instances this engine may decide for, when it shares the namespace with other engines
   * (default: every instance). Checked before each decision and again just before its append.
   */
  readonly ownership?: Ownership;
  /** Told of every committed input and store commit: metrics ({@link EngineMetrics}) and traces. */
  readonly observer?: EngineObserver;
  /**
   * Spans for instances and step attempts through the OpenTelemetry API ({@link EngineTracing}); they
   * record something only once the application registers an OpenTelemetry SDK.
   */
  readonly tracing?: EngineTracing;
}

/** The partitions an engine holds, as far as deciding goes. */
export interface Ownership {
  /** The partition of an instance. */
  partitionOf(instanceId: string): number;
  /** Whether the engine holds the partition now (its lease is valid). */
  holds(partition: number): boolean;
}

/** Counts of what recovery found and did. */
export interface RecoveryReport {
  readonly instances: number;
  readonly redispatched: number;
  readonly timersArmed: number;
  readonly failed: number;
}

const quietLog: EngineLog = {
  info: () => undefined,
  warn: (message) => process.stderr.write(`sagaflow: ${message}\n`),
  error: (message) => process.stderr.write(`sagaflow: ${message}\n`),
};

/**
 * The runtime loop: decide (pure), append with the expected revision, then act.
 * Inputs of one instance are handled one at a time; instances proceed concurrently and their
 * appends share commits. State is kept in memory between inputs and rebuilt from the log on a
 * cold load or after a lost race; a start is decided as new without reading the log, whose expected
 * revision (no stream) refuses it if the instance exists after all.
 */
export class Engine {
  private readonly clock: Clock;
  private readonly log: EngineLog;
  private readonly timers: TimerService;
  private readonly appends: AppendBatcher;
  private readonly mailbox = new InstanceMailbox();
  private readonly cache = new Map<string, InstanceState>();
  private readonly retryTimers = new Set<ReturnType<typeof setTimeout>>();
  private running = false;
  private conflicts = 0;
  /** What the transport delivers to this engine. */
  readonly handlers: TransportHandlers;

  constructor(private readonly options: EngineOptions) {
    this.clock = options.clock ?? systemClock;
    this.log = options.log ?? quietLog;
    this.timers = new TimerService(this.clock, (instanceId, timerId) => this.onTimer(instanceId, timerId));
    const { ownership } = options;
    const observer = options.observer;
    this.appends = new AppendBatcher(
      options.store,
      ownership === undefined ? undefined : (instanceId) => this.checkOwner(instanceId),
      undefined,
      observer?.storeCommitted === undefined ? undefined : (seconds, appends) => observer.storeCommitted?.(seconds, appends),
    );
    this.handlers = {
      reply: (reply) => this.onReply(reply),
      deadLetter: (notice) => this.onDeadLetter(notice),
      start: (request) => this.onStartRequest(request),
      intervene: (intervention) => this.onIntervention(intervention),
    };
  }

  /** Starts listening for replies and resumes every unfinished instance. */
  async start(): Promise<RecoveryReport> {
    this.running = true;
    await this.options.transport.listen(this.handlers);
    return this.recover(() => true);
  }

  /**
   * Starts the engine with no inputs and no instances: it shares the namespace with other engines, and
   * {@link adopt}s the instances of each partition it comes to hold while its transport delivers that
   * partition's inputs.
   */
  open(): void {
    this.running = true;
  }

  /**
   * Takes charge of the unfinished instances `belongs` selects (the partitions just acquired): loads
   * them and carries out what each still waits for, as on a restart.
   */
  adopt(belongs: (instanceId: string) => boolean): Promise<RecoveryReport> {
    return this.recover(belongs);
  }

  /**
   * Lets go of the instances `belongs` selects (partitions handed over or lost): waits for the inputs
   * being decided for them, then disarms their timers and forgets their state. Call it once the engine
   * no longer {@link Ownership.holds} their partitions, so nothing new is decided for them meanwhile.
   */
  async release(belongs: (instanceId: string) => boolean): Promise<void> {
    await this.mailbox.idleWhere(belongs);
    this.timers.disarmWhere(belongs);
    for (const instanceId of [...this.cache.keys()]) if (belongs(instanceId)) this.cache.delete(instanceId);
  }

  /** Whether the engine holds an instance's state in memory (it has loaded it and it is unfinished). */
  holdsInMemory(instanceId: string): boolean {
    return this.cache.has(instanceId);
  }

  /** Durable timers armed now. */
  get timersArmed(): number {
    return this.timers.size;
  }

  /** Whether this engine decides for the instance now (always, without {@link EngineOptions.ownership}). */
  owns(instanceId: string): boolean {
    const { ownership } = this.options;
    return ownership === undefined || ownership.holds(ownership.partitionOf(instanceId));
  }

  /** The fields of a log line about an instance (and one of its effects): its saga when known, and its trace. */
  private about(instanceId: string, effect?: { readonly effectId?: string; readonly id?: string; readonly step?: string }): LogFields {
    const state = this.cache.get(instanceId);
    const effectId = effect?.effectId ?? effect?.id;
    const step = effect?.step ?? (effectId === undefined || state === undefined ? undefined : effectIdParts(effectId, instanceId)?.step);
    return {
      saga: state?.definition.name,
      instanceId,
      traceId: state?.trace?.traceId,
      ...(step === undefined ? {} : { step }),
      ...(effectId === undefined ? {} : { effectId }),
    };
  }

  private checkOwner(instanceId: string): void {
    const { ownership } = this.options;
    if (ownership === undefined) return;
    const partition = ownership.partitionOf(instanceId);
    if (!ownership.holds(partition)) throw new NotOwnerError(instanceId, partition);
  }

  /** Stops timers and waits for inputs in progress; the store and transport stay open (their owner closes them). */
  async stop(): Promise<void> {
    this.running = false;
    this.timers.stop();
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    await this.mailbox.idle();
  }

  /** Starts a saga instance, now or at `startAt` (epoch ms). Fails with InvalidInput, UnknownSaga or InstanceExists. */
  startSaga(
    saga: string,
    instanceId: string,
    input: unknown,
    options: { readonly startAt?: number; readonly trace?: TraceHeaders } = {},
  ): Promise<E.Either<SagaError, InstanceSummary>> {
    return this.traced(saga, instanceId, options.trace, (trace) =>
      this.submit(instanceId, { type: 'start', saga, instanceId, input, ...(options.startAt === undefined ? {} : { startAt: options.startAt }), ...trace }),
    );
  }

  /** Two-phase start, phase one: records a `pending` instance; nothing runs until it is confirmed. */
  prepareSaga(saga: string, instanceId: string, input: unknown, options: { readonly trace?: TraceHeaders } = {}): Promise<E.Either<SagaError, InstanceSummary>> {
    return this.traced(saga, instanceId, options.trace, (trace) => this.submit(instanceId, { type: 'prepare', saga, instanceId, input, ...trace }));
  }

  /** Runs a start with the instance's span begun (under `parent`, the request's trace context), when traced. */
  private async traced(
    saga: string,
    instanceId: string,
    parent: TraceHeaders | undefined,
    start: (trace: { readonly trace?: SagaTrace }) => Promise<E.Either<SagaError, InstanceSummary>>,
  ): Promise<E.Either<SagaError, InstanceSummary>> {
    const { tracing } = this.options;
    if (tracing === undefined) return start({});
    const trace = tracing.beginSaga(saga, instanceId, parent);
    let refusal: string | undefined = 'the start failed';
    try {
      const result = await start(trace === undefined ? {} : { trace });
      refusal = E.isLeft(result) && result.left._tag !== 'InstanceExists' ? result.left.message : undefined;
      return result;
    } finally {
      tracing.settleStart(instanceId, refusal);
    }
  }

  /** Confirms a pending instance (idempotent; refused if it was cancelled). */
  confirm(instanceId: string, by = 'upstream'): Promise<E.Either<SagaError, InstanceSummary>> {
    return this.submit(instanceId, { type: 'confirm', by });
  }

  /** Cancels a pending or scheduled instance (idempotent; refused once it has started). */
  cancel(instanceId: string, by = 'upstream', reason = 'cancelled by its upstream'): Promise<E.Either<SagaError, InstanceSummary>> {
    return this.submit(instanceId, { type: 'cancel', by, reason });
  }

  /** Records an operator's intervention; refused when the instance's state does not allow it. */
  intervene(
    instanceId: string,
    action: InterventionAction,
    by: string,
    reason: string,
    step?: string,
  ): Promise<E.Either<SagaError, InstanceSummary>> {
    return this.submit(instanceId, { type: 'intervene', action, by, reason, ...(step === undefined ? {} : { step }) });
  }

  /** The current state of an instance, loaded from the log if not in memory. */
  async inspect(instanceId: string): Promise<E.Either<SagaError, InstanceState>> {
    const state = await this.load(instanceId);
    if (E.isLeft(state)) return state;
    return state.right === null ? E.left(sagaError.instanceNotFound(instanceId)) : E.right(state.right);
  }

  /** Appends lost to a concurrent writer and decided again. */
  get conflictsResolved(): number {
    return this.conflicts;
  }

  /** Instances held in memory (non-terminal ones). */
  get cachedInstances(): number {
    return this.cache.size;
  }

  /** The unfinished instances held in memory, as they stand. */
  instancesInMemory(): Iterable<InstanceState> {
    return this.cache.values();
  }

  /** Decides one input for one instance, appends its events, then carries out its effects. */
  submit(instanceId: string, input: SagaInput): Promise<E.Either<SagaError, InstanceSummary>> {
    return this.mailbox.run(instanceId, () => this.process(instanceId, input));
  }

  private async process(instanceId: string, input: SagaInput): Promise<E.Either<SagaError, InstanceSummary>> {
    const maxRetries = this.options.maxConflictRetries ?? 10;
    // A start or prepare of an instance not in memory is almost always of a new one: decide it as new and
    // let the append's expected revision (no stream) check that, instead of reading the stream first. If
    // the guess was wrong (a repeated start), the instance is loaded and the input decided again.
    let assumeNew = (input.type === 'start' || input.type === 'prepare') && !this.cache.has(instanceId);
    for (let lost = 0; ; ) {
      // A partition lost meanwhile (its lease lapsed, or it was handed over) stops the decision here,
      // and after a lost race too: the other writer may be the partition's new owner.
      this.checkOwner(instanceId);
      const loaded = assumeNew ? E.right(null) : await this.load(instanceId);
      if (E.isLeft(loaded)) return loaded;
      const state = loaded.right;
      if (state === null && input.type !== 'start' && input.type !== 'prepare') return E.left(sagaError.instanceNotFound(instanceId));
      const decision = decide(this.options.registry, state, input, this.clock.now());
      if (assumeNew && (E.isLeft(decision) || decision.right.events.length === 0)) {
        assumeNew = false; // not taken as new: decide again on what the store holds, which may answer otherwise
        continue;
      }
      if (E.isLeft(decision)) return decision;
      const next = decision.right.state;
      if (next === null) return E.left(sagaError.instanceNotFound(instanceId));
      const summary = summaryOf(next);
      if (decision.right.events.length === 0) return E.right(summary);
      const result = await this.appends.append({
        instanceId,
        expectedRevision: state?.revision ?? noStream,
        events: decision.right.events.map(encodeEvent),
        summary,
      });
      if (result instanceof WrongExpectedRevisionError && assumeNew) {
        assumeNew = false; // the instance exists: not a lost race, so not counted as one
        continue;
      }
      if (result instanceof WrongExpectedRevisionError) {
        this.cache.delete(instanceId);
        this.conflicts++;
        this.options.observer?.appendConflict?.();
        this.log.warn(`append refused for an expected revision: ${result.message}; deciding again on what the store holds`, this.about(instanceId));
        if (lost++ >= maxRetries) throw result;
        continue;
      }
      if (isTerminal(next.status)) this.cache.delete(instanceId);
      else this.cache.set(instanceId, next);
      this.options.observer?.committed(state, next, decision.right.events);
      this.options.tracing?.committed(state, next, decision.right.events);
      if (next.status !== state?.status) this.options.transport.announce?.(summary);
      this.act(decision.right.effects);
      return E.right(summary);
    }
  }

  private async load(instanceId: string): Promise<E.Either<SagaError, InstanceState | null>> {
    const cached = this.cache.get(instanceId);
    if (cached !== undefined) return E.right(cached);
    const recorded = await this.options.store.readStream(instanceId);
    if (recorded.length === 0) return E.right(null);
    const events = decodeStream(recorded);
    if (E.isLeft(events)) return events;
    return replay(this.options.registry, instanceId, events.right);
  }

  private act(effects: readonly Effect[]): void {
    for (const effect of effects) {
      switch (effect.type) {
        case 'dispatch':
          this.dispatch(effect);
          break;
        case 'schedule':
          if (this.running) this.timers.arm(effect.instanceId, effect.timerId, effect.dueAt);
          break;
        case 'cancel':
          this.timers.disarm(effect.timerId);
          break;
        case 'checkBack':
          this.checkBack(effect);
          break;
      }
    }
  }

  /** Hands a command to the transport; if refused, tries again later while it is still awaited. */
  private dispatch(effect: DispatchEffect): void {
    const { tracing } = this.options;
    const trace = tracing?.headersFor(effect, this.cache.get(effect.instanceId));
    this.options.transport.dispatch(effect, trace).catch((error: unknown) => {
      this.log.warn(`dispatch of ${effect.id} failed, will retry: ${error instanceof Error ? error.message : String(error)}`, this.about(effect.instanceId, effect));
      if (!this.running) return;
      const timer = setTimeout(() => {
        this.retryTimers.delete(timer);
        const state = this.cache.get(effect.instanceId);
        const stillAwaited = state !== undefined && outstandingEffects(state).some((e) => e.type === 'dispatch' && e.id === effect.id);
        if (this.running && stillAwaited) this.dispatch(effect);
      }, this.options.redispatchDelayMs ?? 1000);
      this.retryTimers.add(timer);
    });
  }

  private onIntervention(intervention: Intervention): Promise<E.Either<SagaError, InstanceSummary>> {
    const { instanceId, action, by, reason, step } = intervention;
    return this.intervene(instanceId, action, by, reason, step);
  }

  /** Records a reply. An unusable one is refused (the transport keeps it as a dead letter) and stops its instance. */
  private async onReply(reply: Reply): Promise<ReplyVerdict> {
    const result = await this.submit(reply.instanceId, { type: 'reply', effectId: reply.effectId, outcome: reply.outcome });
    if (E.isRight(result)) return { accepted: true };
    this.log.error(`reply ${reply.effectId} rejected: ${result.left.message}`, this.about(reply.instanceId, { effectId: reply.effectId }));
    if (result.left._tag === 'InvalidReply') {
      await this.onDeadLetter({ instanceId: reply.instanceId, effectId: reply.effectId, reason: result.left.message });
    }
    return { accepted: false, reason: result.left.message };
  }

  /**
   * Records a start request. A repeated start or prepare (`InstanceExists`) is the no-op it is; so
   * is a cancel of an instance never prepared (its upstream's prepare was not stored, and it
   * cancels to be sure). Anything else refused goes to the dead letters.
   */
  private async onStartRequest(request: StartRequest): Promise<ReplyVerdict> {
    const result = await this.startRequest(request);
    if (E.isRight(result) || result.left._tag === 'InstanceExists') return { accepted: true };
    if (request.kind === 'cancel' && result.left._tag === 'InstanceNotFound') {
      this.log.info(`cancel of ${request.instanceId} ignored: no such instance (its prepare was never recorded)`, this.about(request.instanceId));
      return { accepted: true };
    }
    this.log.error(`${request.kind ?? 'start'} of ${request.instanceId} refused: ${result.left.message}`, this.about(request.instanceId));
    return { accepted: false, reason: result.left.message };
  }

  private startRequest(request: StartRequest): Promise<E.Either<SagaError, InstanceSummary>> {
    switch (request.kind) {
      case undefined:
      case 'start':
        return this.startSaga(request.saga, request.instanceId, request.input, {
          ...(request.startAt === undefined ? {} : { startAt: request.startAt }),
          ...(request.trace === undefined ? {} : { trace: request.trace }),
        });
      case 'prepare':
        return this.prepareSaga(request.saga, request.instanceId, request.input, request.trace === undefined ? {} : { trace: request.trace });
      case 'confirm':
        return this.confirm(request.instanceId, request.by);
      case 'cancel':
        return this.cancel(request.instanceId, request.by, request.reason);
    }
  }

  /** Asks the upstream of a pending instance; an answer confirms or cancels it, silence waits for the next check-back. */
  private checkBack(effect: CheckBackEffect): void {
    const transport = this.options.transport;
    if (transport.checkBack === undefined) {
      this.log.warn(`instance ${effect.instanceId} is pending, but the transport cannot ask its upstream (check-back)`, this.about(effect.instanceId));
      return;
    }
    transport
      .checkBack(effect)
      .then(async (answer) => {
        if (answer === null) return;
        const result = await this.submit(effect.instanceId, { type: 'checkBackAnswer', outcome: answer });
        if (E.isLeft(result)) this.log.error(`check-back answer for ${effect.instanceId}: ${result.left.message}`, this.about(effect.instanceId));
      })
      .catch((error: unknown) => this.log.warn(`check-back ${effect.id} unanswered: ${error instanceof Error ? error.message : String(error)}`, this.about(effect.instanceId)));
  }

  private async onDeadLetter(notice: DeadLetterNotice): Promise<void> {
    const result = await this.submit(notice.instanceId, { type: 'deadLetter', effectId: notice.effectId, reason: notice.reason });
    if (E.isLeft(result)) this.log.error(`dead letter of ${notice.effectId}: ${result.left.message}`, this.about(notice.instanceId, { effectId: notice.effectId }));
  }

  private onTimer(instanceId: string, timerId: string): void {
    this.submit(instanceId, { type: 'timer', timerId }).then(
      (result) => {
        if (E.isLeft(result)) this.log.error(`timer ${timerId} of ${instanceId}: ${result.left.message}`, this.about(instanceId));
      },
      (error: unknown) => {
        // The partition was lost: its new owner arms the timer again from the log.
        if (error instanceof NotOwnerError) return;
        this.log.error(`timer ${timerId} of ${instanceId} failed, re-arming: ${error instanceof Error ? error.message : String(error)}`, this.about(instanceId));
        if (this.running) this.timers.arm(instanceId, timerId, this.clock.now() + (this.options.redispatchDelayMs ?? 1000));
      },
    );
  }

  /** Loads every unfinished instance `belongs` selects and carries out what it still waits for. */
  private async recover(belongs: (instanceId: string) => boolean): Promise<RecoveryReport> {
    let instances = 0;
    let redispatched = 0;
    let timersArmed = 0;
    let failed = 0;
    let after: { updatedAt: number; instanceId: string } | undefined;
    for (;;) {
      const page = await this.options.store.listInstances({
        statuses: ['pending', 'running', 'compensating', 'stuck'],
        limit: 500,
        ...(after === undefined ? {} : { after }),
      });
      for (const summary of page) {
        if (!belongs(summary.instanceId)) continue;
        const loaded = await this.mailbox.run(summary.instanceId, async () => {
          if (!this.owns(summary.instanceId)) return E.right(null);
          const state = await this.load(summary.instanceId);
          if (E.isRight(state) && state.right !== null && !isTerminal(state.right.status)) {
            this.cache.set(summary.instanceId, state.right);
            const effects = outstandingEffects(state.right);
            this.act(effects);
            for (const effect of effects) {
              if (effect.type === 'dispatch') redispatched++;
              else timersArmed++;
            }
          }
          return state;
        });
        instances++;
        if (E.isLeft(loaded)) {
          failed++;
          this.log.error(`instance ${summary.instanceId} not resumed: ${loaded.left.message}`, { saga: summary.saga, instanceId: summary.instanceId });
        }
      }
      const last = page[page.length - 1];
      if (last === undefined || page.length < 500) break;
      after = { updatedAt: last.updatedAt, instanceId: last.instanceId };
      // A local store answers without real I/O, so without this the whole recovery would run in one
      // turn of the event loop: every repeated command held in memory until the end, nothing else served.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (instances > 0) this.log.info(`resumed ${instances} instance(s): ${redispatched} dispatch(es) repeated, ${timersArmed} timer(s) armed`);
    return { instances, redispatched, timersArmed, failed };
  }
}
