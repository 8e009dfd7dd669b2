import * as E from 'fp-ts/lib/Either.js';
import { decodeWith } from './codec.js';
import type { SagaInput, ReplyOutcome } from './decider.js';
import type { DispatchEffect } from './effects.js';
import { sagaError, type SagaError } from './errors.js';
import { contextOf, isInFlight, type InstanceState, type TimerRecord } from './instance-state.js';
import type { SagaRegistry } from './registry.js';
import type { AnyStep } from './saga-definition.js';
import type { InputEvent } from './saga-events.js';

/** Turns an outside input into the event that records it, or `null` when it is stale. */
export function toInputEvent(registry: SagaRegistry, state: InstanceState | null, input: SagaInput, now: number): E.Either<SagaError, InputEvent | null> {
  const base = { at: now, state: null, status: 'running' as const };
  if (input.type === 'start' || input.type === 'prepare') {
    if (state !== null) return E.left(sagaError.instanceExists(input.instanceId));
    const definition = registry.latest(input.saga);
    if (definition === undefined) return E.left(sagaError.unknownSaga(input.saga, null, registry.list()));
    const decoded = decodeWith(definition.input, input.input);
    if (E.isLeft(decoded)) return E.left(sagaError.invalidInput(input.saga, decoded.left));
    const created = {
      ...base,
      saga: definition.name,
      sagaVersion: definition.version,
      instanceId: input.instanceId,
      input: definition.input.encode(decoded.right),
      ...(input.trace === undefined ? {} : { trace: input.trace }),
    };
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

