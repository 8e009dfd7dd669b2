import type { AnyMachineSnapshot } from 'xstate';
import type { AnySagaDefinition } from './saga-definition.js';
import { nextCompensation, type SagaContext } from './saga-context.js';
import type { DispatchEffect, Effect } from './effects.js';
import type { InstanceSummary } from './event-store.js';
import type { SagaTrace, TimerScheduledEvent } from './saga-events.js';
import { statusTags, type TimerPurpose } from './saga-machine.js';
import type { SagaStatus } from './status.js';

/** A durable timer the instance waits for. */
export interface TimerRecord {
  readonly timerId: string;
  readonly xstateId: string;
  readonly event: { readonly type: string };
  readonly dueAt: number;
  readonly purpose: TimerPurpose;
  readonly step: string | null;
}

/** The fold of an instance's events: everything needed to decide its next input. */
export interface InstanceState {
  readonly definition: AnySagaDefinition;
  readonly instanceId: string;
  /** Revision of the last event (0 for the first). */
  readonly revision: number;
  readonly snapshot: AnyMachineSnapshot;
  readonly status: SagaStatus;
  /** The latest dispatch of each step and compensation, by idempotency key. */
  readonly dispatches: ReadonlyMap<string, DispatchEffect>;
  /** Timers armed and not yet fired or cancelled, by timer id. */
  readonly timers: ReadonlyMap<string, TimerRecord>;
  readonly startedAt: number;
  readonly updatedAt: number;
  /** The instance's span, when its start was traced: steps' spans are its children. */
  readonly trace?: SagaTrace;
}

/** The status a machine snapshot stands for, read from its state tags. */
export function statusOf(snapshot: AnyMachineSnapshot): SagaStatus {
  if (snapshot.hasTag(statusTags.completed)) return 'completed';
  if (snapshot.hasTag(statusTags.compensated)) return 'compensated';
  if (snapshot.hasTag(statusTags.cancelled)) return 'cancelled';
  if (snapshot.hasTag(statusTags.stuck)) return 'stuck';
  if (snapshot.hasTag(statusTags.compensating)) return 'compensating';
  if (snapshot.hasTag(statusTags.pending)) return 'pending';
  return 'running';
}

/** The machine context of an instance. */
export const contextOf = (state: InstanceState): SagaContext => state.snapshot.context as SagaContext;

/** Whether a recorded dispatch still waits for its reply. */
export function isInFlight(state: InstanceState, dispatch: DispatchEffect): boolean {
  const context = contextOf(state);
  return dispatch.kind === 'action'
    ? context.inFlight[dispatch.step] === dispatch.attempt
    : context.compensating?.step === dispatch.step && context.compensating.attempt === dispatch.attempt;
}

/**
 * Effects an instance still needs carried out: dispatches without a reply and armed timers.
 * After a restart the engine carries them out again; ids make the repeats recognisable.
 */
export function outstandingEffects(state: InstanceState): Effect[] {
  const effects: Effect[] = [];
  for (const dispatch of state.dispatches.values()) if (isInFlight(state, dispatch)) effects.push(dispatch);
  for (const timer of state.timers.values()) {
    effects.push({ type: 'schedule', instanceId: state.instanceId, timerId: timer.timerId, dueAt: timer.dueAt });
  }
  return effects;
}

/** The timer record a scheduling event describes. */
export const timerOf = (event: TimerScheduledEvent): TimerRecord => ({
  timerId: event.timerId,
  xstateId: event.xstateId,
  event: event.event,
  dueAt: event.dueAt,
  purpose: event.purpose,
  step: event.step,
});

/** The listing row of an instance in this state. */
export function summaryOf(state: InstanceState): InstanceSummary {
  const context = contextOf(state);
  // While compensating (or stuck on a compensation) the compensation is the current work; its attempts count.
  const compensation = context.compensating?.step ?? (state.snapshot.matches('compensating') ? nextCompensation(context) : undefined);
  const currentStep = compensation ?? Object.keys(context.inFlight)[0] ?? lastStepOf(state);
  const attempts =
    compensation !== undefined
      ? (context.compensationAttempts[compensation] ?? 0)
      : currentStep === null
        ? 0
        : (context.attempts[currentStep] ?? 0);
  return {
    instanceId: state.instanceId,
    saga: state.definition.name,
    version: state.definition.version,
    status: state.status,
    state: JSON.stringify(state.snapshot.value),
    currentStep,
    attempts,
    revision: state.revision,
    startedAt: state.startedAt,
    updatedAt: state.updatedAt,
  };
}

function lastStepOf(state: InstanceState): string | null {
  let latest: DispatchEffect | null = null;
  for (const dispatch of state.dispatches.values()) latest = dispatch;
  return latest?.step ?? null;
}
