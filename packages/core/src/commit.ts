import type { AnyMachineSnapshot } from 'xstate';
import { effectKey, type DispatchEffect, type Effect } from './effects.js';
import { statusOf, timerOf, type InstanceState } from './instance-state.js';
import type { AnySagaDefinition, AnyStep } from './saga-definition.js';
import type { InputEvent, SagaEvent } from './saga-events.js';

/** Applies an input and its decisions to the state. */
export function commit(
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
    ...((input.type === 'SagaStarted' || input.type === 'SagaPrepared') && input.trace !== undefined ? { trace: input.trace } : state?.trace === undefined ? {} : { trace: state.trace }),
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

