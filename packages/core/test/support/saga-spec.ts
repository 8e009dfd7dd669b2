/**
 * Given / when / then for the pure decider, in the style of emmett's workflow specifications:
 *
 * ```ts
 * sagaSpec(registry)
 *   .given({ type: 'start', saga: 'order-fulfilment', instanceId: 'o-1', input }, stepSucceeds('reserveInventory', { reservationId: 'r1' }))
 *   .when(stepFails('chargePayment', 'PaymentDeclined'))
 *   .then({
 *     events: [{ type: 'StepFailed' }, { type: 'CompensationDispatched', step: 'reserveInventory' }, { type: 'TimerScheduled' }],
 *     effects: [{ type: 'dispatch', operation: 'releaseInventory' }, { type: 'schedule' }, { type: 'cancel' }],
 *   });
 * ```
 *
 * `given` takes recorded events (folded with `replay`) or inputs (decided in order); `when` decides
 * one input; `then` compares the decision with partial matchers and throws a readable error when
 * they differ. The clock only moves when asked to, or to a timer's due time when the timer fires.
 * No I/O and no test framework: any runner shows the thrown error.
 */
import * as E from 'fp-ts/lib/Either.js';
import { decide, type Decision, type SagaInput } from '../../src/decider.js';
import { replay } from '../../src/replay.js';
import { effectKey, type Effect } from '../../src/effects.js';
import type { SagaError } from '../../src/errors.js';
import type { InstanceState } from '../../src/instance-state.js';
import type { SagaRegistry } from '../../src/registry.js';
import type { InterventionAction } from '../../src/saga-context.js';
import type { SagaEvent } from '../../src/saga-events.js';
import type { TimerPurpose } from '../../src/saga-machine.js';
import type { SagaStatus } from '../../src/status.js';

/** An input that needs the current state to be written (effect ids, timer ids). */
export type LateInput = (state: InstanceState) => SagaInput;
/** What `given` and `when` accept as an input. */
export type SpecInput = SagaInput | LateInput;
/** A step of the history: a recorded event, an input to decide, or a clock move. */
export type Given = SagaEvent | SpecInput | { readonly clock: number };

/** A value that matches when every field it names matches (arrays: same length, item by item). */
export type Matcher = unknown;

export interface Expectation {
  readonly events?: readonly Matcher[];
  readonly effects?: readonly Matcher[];
  readonly status?: SagaStatus;
  /** The machine state value after the decision. */
  readonly state?: unknown;
}

/** What `then` hands back, for further checks. */
export interface Outcome extends Decision {
  /** Every event so far: the given ones, then the decided ones. */
  readonly history: readonly SagaEvent[];
}

/** Starts a specification against the sagas of a registry. */
export const sagaSpec = (registry: SagaRegistry): SagaSpec => new SagaSpec(registry, [], null, 0);

export class SagaSpec {
  /** @internal */
  constructor(
    private readonly registry: SagaRegistry,
    /** Events recorded so far. */
    readonly history: readonly SagaEvent[],
    /** The fold of `history`, or `undefined` when recorded events were given and are folded on demand. */
    private readonly folded: InstanceState | null | undefined,
    /** The time the next input is decided at, unless it is a timer. */
    readonly clock: number,
  ) {}

  /** The state the given history folds to (`null` before the instance starts). */
  get state(): InstanceState | null {
    if (this.folded !== undefined) return this.folded;
    const first = this.history[0];
    const result = replay(this.registry, first?.type === 'SagaStarted' || first?.type === 'SagaPrepared' ? first.instanceId : '?', this.history);
    if (E.isLeft(result)) throw new Error(`given: the history does not fold: ${result.left.message}`);
    return result.right;
  }

  /** Adds to the history: recorded events (whole batches, as an input and its decisions), inputs decided in order, clock moves. */
  given(...items: readonly Given[]): SagaSpec {
    return items.reduce<SagaSpec>((spec, item) => spec.add(item), this);
  }

  private add(item: Given): SagaSpec {
    if (typeof item === 'object' && 'clock' in item) return new SagaSpec(this.registry, this.history, this.folded, item.clock);
    if (typeof item === 'object' && isEvent(item)) return new SagaSpec(this.registry, [...this.history, item], undefined, Math.max(this.clock, item.at));
    const state = this.state;
    const [input, now] = this.resolve(state, item);
    const decided = decide(this.registry, state, input, now);
    if (E.isLeft(decided)) throw new Error(`given: ${describeInput(input)} was refused: ${decided.left.message}`);
    return new SagaSpec(this.registry, [...this.history, ...decided.right.events], decided.right.state, now);
  }

  /** Decides one input against the given history; `now` defaults to the clock (or the timer's due time, if later). */
  when(item: SpecInput, now?: number): When {
    const state = this.state;
    const [input, at] = this.resolve(state, item, now);
    return new When(this.history, decide(this.registry, state, input, at), describeInput(input));
  }

  /** The input an item stands for, and the time it is decided at. */
  private resolve(state: InstanceState | null, item: SpecInput, now?: number): [SagaInput, number] {
    if (typeof item === 'function') {
      if (state === null) throw new Error('an input that refers to the instance needs a started instance');
      item = item(state);
    }
    if (now !== undefined) return [item, now];
    const timer = item.type === 'timer' ? state?.timers.get(item.timerId) : undefined;
    return [item, Math.max(this.clock, timer?.dueAt ?? 0)];
  }
}

export class When {
  /** @internal */
  constructor(
    private readonly given: readonly SagaEvent[],
    readonly result: E.Either<SagaError, Decision>,
    private readonly input: string,
  ) {}

  /** Expects a decision whose events and effects match, in order and number. */
  then(expected: Expectation): Outcome {
    if (E.isLeft(this.result)) throw new Error(`when ${this.input}: expected a decision, got ${this.result.left._tag}: ${this.result.left.message}`);
    const decision = this.result.right;
    const problems = [
      ...(expected.events === undefined ? [] : compareLists('events', expected.events, decision.events, summariseEvent)),
      ...(expected.effects === undefined ? [] : compareLists('effects', expected.effects, decision.effects, summariseEffect)),
      ...(expected.status === undefined ? [] : mismatches('status', expected.status, decision.state?.status)),
      ...(expected.state === undefined ? [] : mismatches('state', expected.state, decision.state?.snapshot.value)),
    ];
    if (problems.length > 0) {
      throw new Error(
        [
          `when ${this.input}:`,
          ...problems.map((problem) => `  ${problem}`),
          `  decided events:  ${decision.events.map(summariseEvent).join(', ') || '(none)'}`,
          `  decided effects: ${decision.effects.map(summariseEffect).join(', ') || '(none)'}`,
        ].join('\n'),
      );
    }
    return { ...decision, history: [...this.given, ...decision.events] };
  }

  /** Expects the input to be ignored: no events, no effects. */
  thenNothing(): Outcome {
    return this.then({ events: [], effects: [] });
  }

  /** Expects an error that matches. */
  thenFails(expected: Matcher): SagaError {
    if (E.isRight(this.result)) {
      throw new Error(`when ${this.input}: expected an error, got events ${this.result.right.events.map(summariseEvent).join(', ') || '(none)'}`);
    }
    const problems = mismatches('error', expected, this.result.left);
    if (problems.length > 0) throw new Error([`when ${this.input}:`, ...problems.map((p) => `  ${p}`), `  error: ${JSON.stringify(this.result.left)}`].join('\n'));
    return this.result.left;
  }
}

// ---- inputs -------------------------------------------------------------------------------

const latestDispatch = (state: InstanceState, step: string, kind: 'action' | 'compensation') => {
  const dispatch = state.dispatches.get(effectKey(state.instanceId, step, kind));
  if (dispatch === undefined) throw new Error(`no ${kind === 'action' ? 'dispatch' : 'compensation'} of "${step}" yet`);
  return dispatch;
};

/** The reply to the latest dispatch of a step: success. */
export const stepSucceeds =
  (step: string, reply?: unknown): LateInput =>
  (state) => ({ type: 'reply', effectId: latestDispatch(state, step, 'action').id, outcome: { ok: true, reply } });

/** The reply to the latest dispatch of a step: failure (retryable unless `retryable: false` or classified so). */
export const stepFails =
  (step: string, code: string, options: { readonly retryable?: boolean; readonly message?: string } = {}): LateInput =>
  (state) => ({
    type: 'reply',
    effectId: latestDispatch(state, step, 'action').id,
    outcome: { ok: false, error: { code, message: options.message ?? code, ...(options.retryable === undefined ? {} : { retryable: options.retryable }) } },
  });

/** The reply to the latest compensation of a step: success. */
export const compensationSucceeds =
  (step: string): LateInput =>
  (state) => ({ type: 'reply', effectId: latestDispatch(state, step, 'compensation').id, outcome: { ok: true } });

/** The reply to the latest compensation of a step: failure. */
export const compensationFails =
  (step: string, code = 'Unavailable'): LateInput =>
  (state) => ({ type: 'reply', effectId: latestDispatch(state, step, 'compensation').id, outcome: { ok: false, error: { code, message: code } } });

/** The latest dispatch of a step (or its compensation) went to the dead letters. */
export const deadLettered =
  (step: string, kind: 'action' | 'compensation' = 'action', reason = 'max deliveries reached'): LateInput =>
  (state) => ({ type: 'deadLetter', effectId: latestDispatch(state, step, kind).id, reason });

/** The armed timer of a step (or, with `null`, of the instance) with this purpose fires (at its due time, unless `when` is given one). */
export const timerFires =
  (purpose: TimerPurpose, step: string | null): LateInput =>
  (state) => {
    const timer = [...state.timers.values()].find((candidate) => candidate.purpose === purpose && candidate.step === step);
    if (timer === undefined) throw new Error(`no ${purpose} timer armed for ${step === null ? 'the instance' : `"${step}"`}`);
    return { type: 'timer', timerId: timer.timerId };
  };

/** An operator action. */
export const operator = (action: InterventionAction, options: { readonly step?: string; readonly by?: string; readonly reason?: string } = {}): SagaInput => ({
  type: 'intervene',
  action,
  by: options.by ?? 'operator',
  reason: options.reason ?? 'test',
  ...(options.step === undefined ? {} : { step: options.step }),
});

// ---- matching -----------------------------------------------------------------------------

const isEvent = (item: SagaEvent | SagaInput): item is SagaEvent => /^[A-Z]/.test(item.type);

/** Where `actual` differs from the partial `expected`; empty when it matches. */
export function mismatches(path: string, expected: Matcher, actual: unknown): string[] {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${path}: expected an array, got ${show(actual)}`];
    if (expected.length !== actual.length) return [`${path}: expected ${expected.length} item(s), got ${actual.length}: ${show(actual)}`];
    return expected.flatMap((item: unknown, index) => mismatches(`${path}[${index}]`, item, actual[index]));
  }
  if (typeof expected === 'object' && expected !== null) {
    if (typeof actual !== 'object' || actual === null) return [`${path}: expected an object, got ${show(actual)}`];
    return Object.entries(expected).flatMap(([key, value]) => mismatches(`${path}.${key}`, value, (actual as Record<string, unknown>)[key]));
  }
  return Object.is(expected, actual) ? [] : [`${path}: expected ${show(expected)}, got ${show(actual)}`];
}

function compareLists<T>(label: string, expected: readonly Matcher[], actual: readonly T[], summarise: (item: T) => string): string[] {
  if (expected.length !== actual.length) {
    return [`${label}: expected ${expected.length}, got ${actual.length}: ${actual.map(summarise).join(', ') || '(none)'}`];
  }
  return expected.flatMap((matcher, index) => mismatches(`${label}[${index}]`, matcher, actual[index]));
}

const show = (value: unknown): string => (value === undefined ? 'undefined' : JSON.stringify(value));

/** `StepDispatched(chargePayment#2)`, `RetryScheduled(stepRetry:chargePayment @1234)`. */
export function summariseEvent(event: SagaEvent): string {
  const e = event as { type: string; step?: string | null; attempt?: number; purpose?: string; dueAt?: number };
  if (e.purpose !== undefined) return `${e.type}(${e.purpose}:${e.step ?? ''} @${e.dueAt ?? ''})`;
  return e.step === undefined || e.step === null ? e.type : `${e.type}(${e.step}${e.attempt === undefined ? '' : `#${e.attempt}`})`;
}

/** `dispatch(<id>)`, `schedule(<timer> @<dueAt>)`, `cancel(<timer>)`. */
export function summariseEffect(effect: Effect): string {
  switch (effect.type) {
    case 'dispatch':
      return `dispatch(${effect.id})`;
    case 'schedule':
      return `schedule(${effect.timerId} @${effect.dueAt})`;
    case 'cancel':
      return `cancel(${effect.timerId})`;
    case 'checkBack':
      return `checkBack(${effect.id})`;
  }
}

function describeInput(input: SagaInput): string {
  switch (input.type) {
    case 'start':
    case 'prepare':
      return `${input.type} ${input.saga} ${input.instanceId}`;
    case 'confirm':
      return `confirm by ${input.by}`;
    case 'cancel':
      return `cancel by ${input.by}: ${input.reason}`;
    case 'checkBackAnswer':
      return `check-back answered ${input.outcome}`;
    case 'reply':
      return `reply ${input.outcome.ok ? 'ok' : `error ${input.outcome.error.code}`} to ${input.effectId}`;
    case 'timer':
      return `timer ${input.timerId}`;
    case 'deadLetter':
      return `dead letter ${input.effectId}: ${input.reason}`;
    case 'intervene':
      return `${input.action}${input.step === undefined ? '' : ` ${input.step}`} by ${input.by}`;
  }
}
