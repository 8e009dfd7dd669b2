import * as E from 'fp-ts/lib/Either.js';
import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import { decodeWith } from './codec.js';
import { effectId, effectKey, timerId, type DispatchEffect, type Effect } from './effects.js';
import { sagaError, type SagaError } from './errors.js';
import { contextOf, isInFlight, outstandingEffects, statusOf, timerOf, type InstanceState, type TimerRecord } from './instance-state.js';
import type { SagaRegistry } from './registry.js';
import type { InterventionAction, SagaContext, SagaMachineEvent, SagaMachineInput } from './saga-context.js';
import type { AnySagaDefinition, AnyStep, StepContext } from './saga-definition.js';
import type { DecisionEvent, InputEvent, SagaEvent } from './saga-events.js';
import { delayPurposes, instanceDelayPurposes, type TimerPurpose } from './saga-machine.js';

/** Outcome a worker reports for a dispatched effect. */
export type ReplyOutcome =
  | { readonly ok: true; readonly reply?: unknown }
  | { readonly ok: false; readonly error: { readonly code: string; readonly message: string; readonly retryable?: boolean } };

/** Something that happens to an instance. */
export type SagaInput =
  | { readonly type: 'start'; readonly saga: string; readonly instanceId: string; readonly input: unknown; readonly startAt?: number }
  | { readonly type: 'prepare'; readonly saga: string; readonly instanceId: string; readonly input: unknown }
  | { readonly type: 'confirm'; readonly by: string }
  | { readonly type: 'cancel'; readonly by: string; readonly reason: string }
  | { readonly type: 'checkBackAnswer'; readonly outcome: 'committed' | 'rolledBack' }
  | { readonly type: 'reply'; readonly effectId: string; readonly outcome: ReplyOutcome }
  | { readonly type: 'timer'; readonly timerId: string }
  | { readonly type: 'deadLetter'; readonly effectId: string; readonly reason: string }
  | {
      readonly type: 'intervene';
      readonly action: InterventionAction;
      readonly by: string;
      readonly reason: string;
      readonly step?: string;
    };

/** What deciding an input gives: events to append (in order), effects to carry out after, and the new state. */
export interface Decision {
  readonly events: readonly SagaEvent[];
  readonly effects: readonly Effect[];
  readonly state: InstanceState | null;
}

type Draft<T> = T extends unknown ? Omit<T, 'at' | 'state' | 'status'> : never;
type Step = { readonly snapshot: AnyMachineSnapshot; readonly decisions: readonly DecisionEvent[]; readonly cancelled: readonly string[] };

const nothing = (state: InstanceState | null): Decision => ({ events: [], effects: [], state });

/**
 * Decides an input against the current state of an instance (`null` if it has none yet).
 * Pure: the clock is the `now` argument; nothing is carried out.
 */
export function decide(registry: SagaRegistry, state: InstanceState | null, input: SagaInput, now: number): E.Either<SagaError, Decision> {
  const recorded = toInputEvent(registry, state, input, now);
  if (E.isLeft(recorded)) return recorded;
  if (recorded.right === null) return E.right(nothing(state));
  const inputEvent = recorded.right;
  const definition =
    state?.definition ?? (inputEvent.type === 'SagaStarted' || inputEvent.type === 'SagaPrepared' ? registry.get(inputEvent.saga, inputEvent.sagaVersion) : undefined);
  if (definition === undefined) return E.left(sagaError.unknownSaga(input.type === 'start' || input.type === 'prepare' ? input.saga : '?', null, registry.list()));
  const advanced = advance(definition, state, inputEvent);
  if (E.isLeft(advanced)) return advanced;
  if (advanced.right === 'ignored') return ignored(state, input);
  const { snapshot, decisions, cancelled } = advanced.right;
  const stamped = { ...inputEvent, state: snapshot.value as unknown, status: statusOf(snapshot) };
  const events: SagaEvent[] = [stamped, ...decisions];
  const next = commit(definition, state, stamped, events, snapshot, cancelled);
  // resume: carry out again what the instance waits for.
  const effects: Effect[] = input.type === 'intervene' && input.action === 'resume' ? outstandingEffects(next) : [];
  for (const event of decisions) {
    const effect = effectOf(definition, next.instanceId, event);
    if (effect !== null) effects.push(effect);
  }
  for (const id of cancelled) effects.push({ type: 'cancel', instanceId: next.instanceId, timerId: id });
  return E.right({ events, effects, state: next });
}

/** Folds recorded events into the state of an instance, checking that today's definition agrees with them. */
export function replay(registry: SagaRegistry, instanceId: string, history: readonly SagaEvent[]): E.Either<SagaError, InstanceState> {
  const first = history[0];
  if (first === undefined) return E.left(sagaError.instanceNotFound(instanceId));
  if (first.type !== 'SagaStarted' && first.type !== 'SagaPrepared') {
    return E.left(sagaError.corruptEvent(instanceId, 0, [{ path: 'type', expected: '"SagaStarted" or "SagaPrepared" as first event', actual: first.type }]));
  }
  const definition = registry.get(first.saga, first.sagaVersion);
  if (definition === undefined) return E.left(sagaError.unknownSaga(first.saga, first.sagaVersion, registry.list()));
  let state: InstanceState | null = null;
  let index = 0;
  while (index < history.length) {
    const inputEvent = history[index] as SagaEvent;
    const where = { saga: definition.name, version: definition.version, instanceId, revision: index, eventType: inputEvent.type };
    if (!isInput(inputEvent)) return E.left(sagaError.diverged(where, 'an input event', `an unexpected ${inputEvent.type}`));
    const advanced = advance(definition, state, inputEvent);
    if (E.isLeft(advanced)) return advanced;
    if (advanced.right === 'ignored') return E.left(sagaError.diverged(where, 'no transition for this event', 'a transition'));
    const { snapshot, decisions, cancelled } = advanced.right;
    const batch: SagaEvent[] = [inputEvent];
    for (const expected of decisions) {
      const actual = history[index + batch.length];
      const revision = index + batch.length;
      const at = { ...where, revision, eventType: actual?.type ?? '(end of history)' };
      if (actual === undefined || signature(actual) !== signature(expected)) {
        return E.left(sagaError.diverged(at, signature(expected), actual === undefined ? 'nothing' : signature(actual)));
      }
      batch.push(actual);
    }
    const trailing = history[index + batch.length];
    if (trailing !== undefined && !isInput(trailing)) {
      const at = { ...where, revision: index + batch.length, eventType: trailing.type };
      return E.left(sagaError.diverged(at, 'no further decision', signature(trailing)));
    }
    if (JSON.stringify(inputEvent.state) !== JSON.stringify(snapshot.value)) {
      return E.left(sagaError.diverged(where, `state ${JSON.stringify(snapshot.value)}`, `state ${JSON.stringify(inputEvent.state)}`));
    }
    state = commit(definition, state, inputEvent, batch, snapshot, cancelled);
    index += batch.length;
  }
  return E.right(state as InstanceState);
}

function isInput(event: SagaEvent): event is InputEvent {
  return inputEventTypes.has(event.type);
}
const inputEventTypes: ReadonlySet<string> = new Set([
  'SagaStarted',
  'SagaPrepared',
  'SagaConfirmed',
  'SagaCancelled',
  'StepSucceeded',
  'StepFailed',
  'StepTimedOut',
  'CompensationSucceeded',
  'CompensationFailed',
  'CompensationTimedOut',
  'EffectDeadLettered',
  'TimerFired',
  'OperatorIntervened',
]);

/** What makes two decisions the same decision: kind, step, attempt, timer purpose. */
function signature(event: SagaEvent): string {
  const e = event as { type: string; step?: string | null; attempt?: number; purpose?: string };
  return [e.type, e.step ?? '', e.attempt ?? '', e.purpose ?? ''].join(' ').trim();
}

/**
 * What an input the machine does not take means. Confirm and cancel are idempotent: repeating the
 * outcome an instance already has is a no-op, asking for the other one is refused.
 */
function ignored(state: InstanceState | null, input: SagaInput): E.Either<SagaError, Decision> {
  if (state === null) return E.right(nothing(state));
  switch (input.type) {
    case 'intervene':
      return E.left(sagaError.interventionRefused(state.instanceId, input.action, state.status, refusal(state, input.action)));
    case 'confirm':
      return state.status === 'cancelled'
        ? E.left(sagaError.interventionRefused(state.instanceId, 'confirm', state.status, 'it was cancelled and never ran'))
        : E.right(nothing(state));
    case 'cancel':
      return state.status === 'cancelled'
        ? E.right(nothing(state))
        : E.left(sagaError.interventionRefused(state.instanceId, 'cancel', state.status, 'it was confirmed and has started; abort it to compensate'));
    default:
      return E.right(nothing(state));
  }
}

function refusal(state: InstanceState, action: InterventionAction): string {
  switch (action) {
    case 'abort':
      return 'only a running instance can be aborted';
    case 'retry':
      return state.status === 'stuck' ? 'the step named is not the stuck one' : 'only a stuck step or compensation can be retried';
    case 'skip':
      return state.status === 'stuck' ? 'the step named is not the stuck compensation' : 'only a stuck compensation can be skipped';
    case 'resume':
      return 'it waits for no command or timer';
  }
}

/** Turns an outside input into the event that records it, or `null` when it is stale. */
function toInputEvent(registry: SagaRegistry, state: InstanceState | null, input: SagaInput, now: number): E.Either<SagaError, InputEvent | null> {
  const base = { at: now, state: null, status: 'running' as const };
  if (input.type === 'start' || input.type === 'prepare') {
    if (state !== null) return E.left(sagaError.instanceExists(input.instanceId));
    const definition = registry.latest(input.saga);
    if (definition === undefined) return E.left(sagaError.unknownSaga(input.saga, null, registry.list()));
    const decoded = decodeWith(definition.input, input.input);
    if (E.isLeft(decoded)) return E.left(sagaError.invalidInput(input.saga, decoded.left));
    const created = { ...base, saga: definition.name, sagaVersion: definition.version, instanceId: input.instanceId, input: definition.input.encode(decoded.right) };
    if (input.type === 'prepare') return E.right({ type: 'SagaPrepared', ...created });
    if (input.startAt !== undefined && !Number.isFinite(input.startAt)) {
      return E.left(sagaError.invalidInput(input.saga, [{ path: 'startAt', expected: 'a time (epoch ms)', actual: String(input.startAt) }]));
    }
    return E.right({ type: 'SagaStarted', ...created, ...(input.startAt === undefined ? {} : { startAt: input.startAt }) });
  }
  if (state === null) return E.left(sagaError.instanceNotFound(input.type === 'reply' ? input.effectId : 'unknown'));
  switch (input.type) {
    case 'reply':
      return replyEvent(state, input.effectId, input.outcome, now);
    case 'deadLetter': {
      const dispatch = awaited(state, input.effectId);
      if (dispatch === undefined) return E.right(null);
      return E.right({
        type: 'EffectDeadLettered',
        at: now,
        state: null,
        status: state.status,
        step: dispatch.step,
        attempt: dispatch.attempt,
        effectId: dispatch.id,
        kind: dispatch.kind,
        reason: input.reason,
      });
    }
    case 'timer': {
      const timer = state.timers.get(input.timerId);
      if (timer === undefined) return E.right(null);
      return E.right(timerEvent(state, timer, now));
    }
    case 'intervene':
      return E.right({ type: 'OperatorIntervened', ...base, action: input.action, by: input.by, reason: input.reason, step: input.step ?? null });
    case 'confirm':
      return E.right({ type: 'SagaConfirmed', ...base, by: input.by });
    case 'cancel':
      return E.right({ type: 'SagaCancelled', ...base, by: input.by, reason: input.reason });
    case 'checkBackAnswer':
      return E.right(
        input.outcome === 'committed'
          ? { type: 'SagaConfirmed', ...base, by: 'check-back' }
          : { type: 'SagaCancelled', ...base, by: 'check-back', reason: 'the upstream transaction did not commit' },
      );
  }
}

/** The dispatch an effect id names, if its reply is still awaited. */
function awaited(state: InstanceState, effectId: string): DispatchEffect | undefined {
  const dispatch = state.dispatches.get(effectId.slice(0, effectId.lastIndexOf('/')));
  return dispatch !== undefined && dispatch.id === effectId && isInFlight(state, dispatch) ? dispatch : undefined;
}

function replyEvent(state: InstanceState, id: string, outcome: ReplyOutcome, now: number): E.Either<SagaError, InputEvent | null> {
  const dispatch = awaited(state, id);
  if (dispatch === undefined) return E.right(null);
  const base = { at: now, state: null, status: state.status, step: dispatch.step, attempt: dispatch.attempt, effectId: id };
  const step = state.definition.steps.get(dispatch.step) as AnyStep;
  if (dispatch.kind === 'compensation') {
    return E.right(
      outcome.ok
        ? { type: 'CompensationSucceeded', ...base }
        : { type: 'CompensationFailed', ...base, error: { code: outcome.error.code, message: outcome.error.message, retryable: true } },
    );
  }
  if (!outcome.ok) {
    const retryable = outcome.error.retryable !== false && !(step.nonRetryable ?? []).includes(outcome.error.code);
    return E.right({ type: 'StepFailed', ...base, error: { code: outcome.error.code, message: outcome.error.message, retryable } });
  }
  const reply = decodeWith(step.reply, outcome.reply);
  if (E.isLeft(reply)) return E.left(sagaError.invalidReply(state.instanceId, step.name, reply.left));
  return E.right({ type: 'StepSucceeded', ...base, reply: step.reply.encode(reply.right) });
}

function timerEvent(state: InstanceState, timer: TimerRecord, now: number): InputEvent {
  const base = { at: now, state: null, status: state.status, timerId: timer.timerId };
  const context = contextOf(state);
  if (timer.purpose === 'stepTimeout' && timer.step !== null) {
    return { type: 'StepTimedOut', ...base, step: timer.step, attempt: context.inFlight[timer.step] ?? context.attempts[timer.step] ?? 0 };
  }
  if (timer.purpose === 'compensationTimeout' && timer.step !== null) {
    return { type: 'CompensationTimedOut', ...base, step: timer.step, attempt: context.compensating?.attempt ?? 0 };
  }
  return { type: 'TimerFired', ...base };
}

/** Feeds one input event to the machine and turns the actions it returns into decision events. */
function advance(definition: AnySagaDefinition, state: InstanceState | null, input: InputEvent): E.Either<SagaError, Step | 'ignored'> {
  const instanceId = state?.instanceId ?? (input.type === 'SagaStarted' || input.type === 'SagaPrepared' ? input.instanceId : '?');
  const revision = (state?.revision ?? -1) + 1;
  let snapshot: AnyMachineSnapshot;
  let actions: readonly { type: string; params?: unknown }[];
  if (input.type === 'SagaStarted' || input.type === 'SagaPrepared') {
    const decoded = decodeWith(definition.input, input.input);
    if (E.isLeft(decoded)) return E.left(sagaError.corruptEvent(instanceId, revision, decoded.left.map(prefix('input'))));
    const machineInput: SagaMachineInput = {
      instanceId,
      input: decoded.right as unknown,
      mode: input.type === 'SagaPrepared' ? 'prepared' : 'started',
      at: input.at,
      startAt: input.type === 'SagaStarted' ? (input.startAt ?? null) : null,
    };
    [snapshot, actions] = initialTransition(definition.machine, machineInput);
  } else if (input.type === 'OperatorIntervened' && input.action === 'resume') {
    if (state === null) return E.left(sagaError.instanceNotFound(instanceId));
    return outstandingEffects(state).length === 0 ? E.right('ignored') : E.right({ snapshot: state.snapshot, decisions: [], cancelled: [] });
  } else {
    if (state === null) return E.left(sagaError.instanceNotFound(instanceId));
    const event = machineEvent(state, input, revision);
    if (E.isLeft(event)) return event;
    [snapshot, actions] = transition(definition.machine, state.snapshot, event.right);
    if (snapshot === state.snapshot && actions.length === 0) return E.right('ignored');
  }
  const context = snapshot.context as SagaContext;
  const decisions: Draft<DecisionEvent>[] = [];
  const cancelled: string[] = [];
  const activeTimers = new Map(state?.timers ?? []);
  if (input.type === 'StepTimedOut' || input.type === 'CompensationTimedOut' || input.type === 'TimerFired') activeTimers.delete(input.timerId);
  for (const action of actions) {
    const params = (action.params ?? {}) as Record<string, unknown>;
    switch (action.type) {
      case 'dispatchStep':
      case 'dispatchCompensation': {
        const kind = action.type === 'dispatchStep' ? 'action' : 'compensation';
        const command = buildCommand(definition, context, String(params.step), kind);
        if (E.isLeft(command)) return command;
        decisions.push({
          type: kind === 'action' ? 'StepDispatched' : 'CompensationDispatched',
          step: String(params.step),
          attempt: Number(params.attempt),
          effectId: effectId(instanceId, String(params.step), kind, Number(params.attempt)),
          command: command.right,
        });
        break;
      }
      case 'xstate.raise': {
        const delay = params.delay;
        if (typeof delay !== 'number') return E.left(sagaError.unsupportedAction(definition.name, 'xstate.raise without a delay'));
        const xstateId = String(params.id);
        const { purpose, step } = timerPurpose(xstateId);
        decisions.push({
          type: purpose === 'stepRetry' || purpose === 'compensationRetry' ? 'RetryScheduled' : 'TimerScheduled',
          timerId: timerId(instanceId, revision + 1 + decisions.length),
          xstateId,
          event: params.event as { type: string },
          dueAt: input.at + delay,
          purpose,
          step,
        });
        break;
      }
      case 'xstate.cancel':
        for (const timer of activeTimers.values()) {
          if (timer.xstateId === params.sendId) {
            cancelled.push(timer.timerId);
            activeTimers.delete(timer.timerId);
          }
        }
        break;
      case 'recordCompleted':
        decisions.push({ type: 'SagaCompleted' });
        break;
      case 'requestCheckBack':
        decisions.push({ type: 'CheckBackRequested', attempt: Number(params.attempt) });
        break;
      case 'recordCompensated':
        decisions.push({ type: 'SagaCompensated', failure: context.failure });
        break;
      case 'recordStuck': {
        const last =
          input.type === 'CompensationFailed'
            ? input.error
            : input.type === 'EffectDeadLettered'
              ? { code: 'DeadLettered', message: input.reason, retryable: false }
              : null;
        decisions.push({ type: 'SagaStuck', step: String(params.step), error: last });
        break;
      }
      default:
        return E.left(sagaError.unsupportedAction(definition.name, action.type));
    }
  }
  const stamp = { at: input.at, state: snapshot.value as unknown, status: statusOf(snapshot) };
  return E.right({ snapshot, decisions: decisions.map((draft) => ({ ...draft, ...stamp })), cancelled });
}

function machineEvent(state: InstanceState, input: Exclude<InputEvent, { type: 'SagaStarted' | 'SagaPrepared' }>, revision: number): E.Either<SagaError, SagaMachineEvent> {
  switch (input.type) {
    case 'StepSucceeded': {
      const step = state.definition.steps.get(input.step) as AnyStep | undefined;
      if (step === undefined) return E.left(sagaError.corruptEvent(state.instanceId, revision, [{ path: 'step', expected: 'a step of the saga', actual: input.step }]));
      const reply = decodeWith(step.reply, input.reply);
      if (E.isLeft(reply)) return E.left(sagaError.corruptEvent(state.instanceId, revision, reply.left.map(prefix('reply'))));
      return E.right({ type: 'step.succeeded', step: input.step, attempt: input.attempt, reply: reply.right as unknown });
    }
    case 'StepFailed':
      return E.right({ type: 'step.failed', step: input.step, attempt: input.attempt, error: input.error });
    case 'CompensationSucceeded':
      return E.right({ type: 'compensation.succeeded', step: input.step, attempt: input.attempt });
    case 'CompensationFailed':
      return E.right({ type: 'compensation.failed', step: input.step, attempt: input.attempt, error: input.error });
    case 'SagaConfirmed':
      return E.right({ type: 'saga.confirmed', by: input.by });
    case 'SagaCancelled':
      return E.right({ type: 'saga.cancelled', by: input.by, reason: input.reason });
    case 'EffectDeadLettered':
      return E.right({ type: 'effect.deadLettered', kind: input.kind, step: input.step, attempt: input.attempt, reason: input.reason });
    case 'OperatorIntervened':
      return E.right({ type: `operator.${input.action}`, by: input.by, reason: input.reason, ...(input.step === null ? {} : { step: input.step }) });
    case 'StepTimedOut':
    case 'CompensationTimedOut':
    case 'TimerFired': {
      const timer = state.timers.get(input.timerId);
      if (timer === undefined) {
        return E.left(sagaError.corruptEvent(state.instanceId, revision, [{ path: 'timerId', expected: 'an armed timer', actual: input.timerId }]));
      }
      return E.right(timer.event as SagaMachineEvent);
    }
  }
}

const prefix = (root: string) => (problem: { path: string; expected: string; actual: string }) => ({
  ...problem,
  path: problem.path === '(root)' ? root : `${root}.${problem.path}`,
});

function timerPurpose(xstateId: string): { purpose: TimerPurpose; step: string | null } {
  const delayName = xstateId.startsWith('xstate.after.') ? (xstateId.slice('xstate.after.'.length).split('.')[0] ?? '') : '';
  const [purpose, step] = delayName.split(':');
  if (step !== undefined && (delayPurposes as readonly string[]).includes(purpose ?? '')) return { purpose: purpose as TimerPurpose, step };
  if (step === undefined && (instanceDelayPurposes as readonly string[]).includes(purpose ?? '')) return { purpose: purpose as TimerPurpose, step: null };
  return { purpose: 'custom', step: null };
}

function buildCommand(definition: AnySagaDefinition, context: SagaContext, stepName: string, kind: 'action' | 'compensation'): E.Either<SagaError, unknown> {
  const step = definition.steps.get(stepName) as AnyStep | undefined;
  const label = kind === 'action' ? stepName : `compensation of ${stepName}`;
  if (step === undefined) return E.left(sagaError.invalidCommand(definition.name, label, [{ path: '(root)', expected: 'a declared step', actual: stepName }]));
  const stepContext: StepContext<unknown> = {
    instanceId: context.instanceId,
    input: context.input,
    replyOf: <R,>(other: AnyStep): R => {
      if (!(other.name in context.replies)) throw new Error(`step "${other.name}" has no reply yet`);
      return context.replies[other.name] as R;
    },
  };
  try {
    const codec = kind === 'action' ? step.command : step.compensation?.command;
    if (codec === undefined) throw new Error('the step has no compensation');
    const command: unknown = kind === 'action' ? step.toCommand(stepContext) : step.compensation?.toCommand(stepContext, context.replies[stepName]);
    const encoded = codec.encode(command);
    const valid = decodeWith(codec, encoded);
    return E.isLeft(valid) ? E.left(sagaError.invalidCommand(definition.name, label, valid.left)) : E.right(encoded);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return E.left(sagaError.invalidCommand(definition.name, label, [{ path: '(root)', expected: 'a command', actual: `an exception: ${message}` }]));
  }
}

/** Applies an input and its decisions to the state. */
function commit(
  definition: AnySagaDefinition,
  state: InstanceState | null,
  input: InputEvent,
  events: readonly SagaEvent[],
  snapshot: AnyMachineSnapshot,
  cancelled: readonly string[],
): InstanceState {
  const instanceId = state?.instanceId ?? (input.type === 'SagaStarted' || input.type === 'SagaPrepared' ? input.instanceId : '?');
  const dispatches = new Map(state?.dispatches ?? []);
  const timers = new Map(state?.timers ?? []);
  if (input.type === 'StepTimedOut' || input.type === 'CompensationTimedOut' || input.type === 'TimerFired') timers.delete(input.timerId);
  for (const id of cancelled) timers.delete(id);
  for (const event of events) {
    const effect = effectOf(definition, instanceId, event);
    if (effect?.type === 'dispatch') dispatches.set(effect.key, effect);
    if (event.type === 'RetryScheduled' || event.type === 'TimerScheduled') timers.set(event.timerId, timerOf(event));
  }
  return {
    definition,
    instanceId,
    revision: (state?.revision ?? -1) + events.length,
    snapshot,
    status: statusOf(snapshot),
    dispatches,
    timers,
    startedAt: state?.startedAt ?? input.at,
    updatedAt: input.at,
  };
}

/** The effect a decision event asks for, if any. */
export function effectOf(definition: AnySagaDefinition, instanceId: string, event: SagaEvent): Effect | null {
  switch (event.type) {
    case 'StepDispatched':
    case 'CompensationDispatched': {
      const kind = event.type === 'StepDispatched' ? 'action' : 'compensation';
      const step = definition.steps.get(event.step) as AnyStep | undefined;
      const dispatch: DispatchEffect = {
        type: 'dispatch',
        id: event.effectId,
        key: effectKey(instanceId, event.step, kind),
        kind,
        saga: definition.name,
        instanceId,
        step: event.step,
        operation: kind === 'action' ? event.step : (step?.compensation?.name ?? event.step),
        attempt: event.attempt,
        command: event.command,
      };
      return dispatch;
    }
    case 'RetryScheduled':
    case 'TimerScheduled':
      return { type: 'schedule', instanceId, timerId: event.timerId, dueAt: event.dueAt };
    case 'CheckBackRequested':
      return { type: 'checkBack', id: `${instanceId}/check-back/${event.attempt}`, instanceId, saga: definition.name, attempt: event.attempt };
    default:
      return null;
  }
}
