import * as t from 'io-ts';
import { sagaStatuses, type SagaStatus } from './status.js';
import { interventionActions } from './saga-context.js';

const literals = <const T extends readonly [string, string, ...string[]]>(values: T) =>
  t.union(values.map((value) => t.literal(value)) as unknown as [t.LiteralC<T[number]>, t.LiteralC<T[number]>, ...t.LiteralC<T[number]>[]]);

const StatusC = literals(sagaStatuses) as t.Type<SagaStatus, string, unknown>;
const StepErrorC = t.type({ code: t.string, message: t.string, retryable: t.boolean });
const FailureC = t.union([t.null, t.type({ step: t.string, code: t.string, message: t.string })]);
const TimerPurposeC = literals(['stepTimeout', 'stepRetry', 'compensationTimeout', 'compensationRetry', 'sagaDeadline', 'checkBack', 'checkBackRetry', 'startDelay', 'custom']);

/** Fields of every event: when it was recorded, and the machine state and status it led to. */
const common = { at: t.number, state: t.unknown, status: StatusC };

const event = <T extends string, P extends t.Props>(type: T, props: P) =>
  t.type({ type: t.literal(type), ...common, ...props }, type);

const timer = {
  timerId: t.string,
  /** Id of the XState delayed event, for cancellation. */
  xstateId: t.string,
  /** The event the machine receives when the timer fires. */
  event: t.type({ type: t.string }),
  dueAt: t.number,
  purpose: TimerPurposeC,
  step: t.union([t.string, t.null]),
};

/** The ids of an instance's trace: its own span, in the trace of the request that started it (OpenTelemetry, W3C trace context). */
export const SagaTraceC = t.type({ traceId: t.string, spanId: t.string }, 'SagaTrace');
export type SagaTrace = t.TypeOf<typeof SagaTraceC>;

/**
 * The instance was created; records the definition version that folds its stream. `startAt`: a delayed
 * start. `trace`: the instance's span, when the engine traces.
 */
export const SagaStarted = t.intersection(
  [event('SagaStarted', { saga: t.string, sagaVersion: t.number, instanceId: t.string, input: t.unknown }), t.partial({ startAt: t.number, trace: SagaTraceC })],
  'SagaStarted',
);
/** The instance was created pending (two-phase start): nothing runs until it is confirmed. */
export const SagaPrepared = t.intersection(
  [event('SagaPrepared', { saga: t.string, sagaVersion: t.number, instanceId: t.string, input: t.unknown }), t.partial({ trace: SagaTraceC })],
  'SagaPrepared',
);
/** A pending instance was confirmed (by its upstream, or by a check-back that found the upstream committed). */
export const SagaConfirmed = event('SagaConfirmed', { by: t.string });
/** A pending or scheduled instance was cancelled; it never ran. */
export const SagaCancelled = event('SagaCancelled', { by: t.string, reason: t.string });
export const StepSucceeded = event('StepSucceeded', { step: t.string, attempt: t.number, effectId: t.string, reply: t.unknown });
export const StepFailed = event('StepFailed', { step: t.string, attempt: t.number, effectId: t.string, error: StepErrorC });
export const StepTimedOut = event('StepTimedOut', { step: t.string, attempt: t.number, timerId: t.string });
export const CompensationSucceeded = event('CompensationSucceeded', { step: t.string, attempt: t.number, effectId: t.string });
export const CompensationFailed = event('CompensationFailed', { step: t.string, attempt: t.number, effectId: t.string, error: StepErrorC });
export const CompensationTimedOut = event('CompensationTimedOut', { step: t.string, attempt: t.number, timerId: t.string });
/** A dispatched command or its reply could not be delivered or decoded and went to the dead letters. */
export const EffectDeadLettered = event('EffectDeadLettered', {
  step: t.string,
  attempt: t.number,
  effectId: t.string,
  kind: literals(['action', 'compensation']),
  reason: t.string,
});
/** A timer other than a timeout fired (retry backoff, custom delays). */
export const TimerFired = event('TimerFired', { timerId: t.string });
export const OperatorIntervened = event('OperatorIntervened', {
  action: literals(interventionActions),
  by: t.string,
  reason: t.string,
  step: t.union([t.string, t.null]),
});

export const StepDispatched = event('StepDispatched', { step: t.string, attempt: t.number, effectId: t.string, command: t.unknown });
export const CompensationDispatched = event('CompensationDispatched', {
  step: t.string,
  attempt: t.number,
  effectId: t.string,
  command: t.unknown,
});
export const RetryScheduled = event('RetryScheduled', timer);
export const TimerScheduled = event('TimerScheduled', timer);
export const SagaCompleted = event('SagaCompleted', {});
export const SagaCompensated = event('SagaCompensated', { failure: FailureC });
/** The engine asked a pending instance's upstream whether its local transaction committed. */
export const CheckBackRequested = event('CheckBackRequested', { attempt: t.number });
export const SagaStuck = event('SagaStuck', { step: t.string, error: t.union([StepErrorC, t.null]) });

/**
 * Events recorded because something happened to the instance: they are the machine's inputs
 * and are fed to it again on replay.
 */
export const InputEvent = t.union([
  SagaStarted,
  SagaPrepared,
  SagaConfirmed,
  SagaCancelled,
  StepSucceeded,
  StepFailed,
  StepTimedOut,
  CompensationSucceeded,
  CompensationFailed,
  CompensationTimedOut,
  EffectDeadLettered,
  TimerFired,
  OperatorIntervened,
]);
/** Events recorded because the machine decided something: replay derives them again and compares. */
export const DecisionEvent = t.union([
  StepDispatched,
  CompensationDispatched,
  RetryScheduled,
  TimerScheduled,
  SagaCompleted,
  SagaCompensated,
  SagaStuck,
  CheckBackRequested,
]);
/** Every saga event. */
export const SagaEvent = t.union([InputEvent, DecisionEvent]);

export type InputEvent = t.TypeOf<typeof InputEvent>;
export type DecisionEvent = t.TypeOf<typeof DecisionEvent>;
export type SagaEvent = t.TypeOf<typeof SagaEvent>;
export type SagaEventType = SagaEvent['type'];
export type TimerScheduledEvent = t.TypeOf<typeof TimerScheduled> | t.TypeOf<typeof RetryScheduled>;

const inputTypes: ReadonlySet<string> = new Set(InputEvent.types.map((codec) => codec.name));

/** Whether an event is a machine input (as opposed to a decision). */
export const isInputEvent = (event: SagaEvent): event is InputEvent => inputTypes.has(event.type);

/** Every event type name, for stores and tools. */
export const sagaEventTypes: readonly string[] = SagaEvent.types.flatMap((union) => union.types.map((codec) => codec.name));
