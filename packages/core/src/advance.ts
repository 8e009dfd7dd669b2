import * as E from 'fp-ts/lib/Either.js';
import type { AnyMachineSnapshot } from 'xstate';
import { decodeWith } from './codec.js';
import { effectId, timerId } from './effects.js';
import { machineStart, machineTransition, type MachineAction } from './machine-transition.js';
import { sagaError, type SagaError } from './errors.js';
import { outstandingEffects, statusOf, type InstanceState } from './instance-state.js';
import type { SagaContext, SagaMachineEvent, SagaMachineInput } from './saga-context.js';
import type { AnySagaDefinition, AnyStep, StepContext } from './saga-definition.js';
import type { DecisionEvent, InputEvent } from './saga-events.js';
import { delayPurposes, instanceDelayPurposes, type TimerPurpose } from './saga-machine.js';

/** The machine's answer to one input: its new snapshot, the decisions it made, the timers it dropped. */
export type Step = { readonly snapshot: AnyMachineSnapshot; readonly decisions: readonly DecisionEvent[]; readonly cancelled: readonly string[] };

/** Feeds one input event to the machine and turns the actions it returns into decision events. */
export function advance(definition: AnySagaDefinition, state: InstanceState | null, input: InputEvent): E.Either<SagaError, Step | 'ignored'> {
  const instanceId = state?.instanceId ?? (input.type === 'SagaStarted' || input.type === 'SagaPrepared' ? input.instanceId : '?');
  const revision = (state?.revision ?? -1) + 1;
  let snapshot: AnyMachineSnapshot;
  let actions: readonly MachineAction[];
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
    [snapshot, actions] = machineStart(definition.machine, machineInput);
  } else if (input.type === 'OperatorIntervened' && input.action === 'resume') {
    if (state === null) return E.left(sagaError.instanceNotFound(instanceId));
    return outstandingEffects(state).length === 0 ? E.right('ignored') : E.right({ snapshot: state.snapshot, decisions: [], cancelled: [] });
  } else {
    if (state === null) return E.left(sagaError.instanceNotFound(instanceId));
    const event = machineEvent(state, input, revision);
    if (E.isLeft(event)) return event;
    [snapshot, actions] = machineTransition(definition.machine, state.snapshot, event.right);
    if (snapshot === state.snapshot && actions.length === 0) return E.right('ignored');
  }
  const context = snapshot.context as SagaContext;
  // Every decision is stamped with the input's time and the state it leads to.
  const at = input.at;
  const value = snapshot.value as unknown;
  const status = statusOf(snapshot);
  const decisions: DecisionEvent[] = [];
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
          at,
          state: value,
          status,
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
          at,
          state: value,
          status,
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
        decisions.push({ type: 'SagaCompleted', at, state: value, status });
        break;
      case 'requestCheckBack':
        decisions.push({ type: 'CheckBackRequested', attempt: Number(params.attempt), at, state: value, status });
        break;
      case 'recordCompensated':
        decisions.push({ type: 'SagaCompensated', failure: context.failure, at, state: value, status });
        break;
      case 'recordStuck': {
        const last =
          input.type === 'CompensationFailed'
            ? input.error
            : input.type === 'EffectDeadLettered'
              ? { code: 'DeadLettered', message: input.reason, retryable: false }
              : null;
        decisions.push({ type: 'SagaStuck', step: String(params.step), error: last, at, state: value, status });
        break;
      }
      default:
        return E.left(sagaError.unsupportedAction(definition.name, action.type));
    }
  }
  return E.right({ snapshot, decisions, cancelled });
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

/**
 * What timers of each xstate id are for, worked out once: the ids come from the machines' delays, a
 * fixed set, and every dispatch of a step with a timeout arms one. Bounded all the same.
 */
const purposes = new Map<string, { readonly purpose: TimerPurpose; readonly step: string | null }>();

function timerPurpose(xstateId: string): { readonly purpose: TimerPurpose; readonly step: string | null } {
  let known = purposes.get(xstateId);
  if (known === undefined) {
    if (purposes.size >= 10_000) purposes.clear();
    known = purposeOf(xstateId);
    purposes.set(xstateId, known);
  }
  return known;
}

function purposeOf(xstateId: string): { purpose: TimerPurpose; step: string | null } {
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
    // A method, not an arrow: a named arrow built per command gets a name-keeping wrapper under tsx.
    replyOf<R>(other: AnyStep): R {
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

