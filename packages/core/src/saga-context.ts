/** Failure reported for a step attempt. `retryable` is decided when the failure is recorded. */
export interface StepError {
  readonly code: string;
  readonly message: string;
  readonly retryable: boolean;
}

/** Why a saga stopped moving forward. */
export interface SagaFailure {
  readonly step: string;
  readonly code: string;
  readonly message: string;
}

/** The extended state of every saga machine. Plain data, rebuilt by replay, never stored. */
export interface SagaContext {
  readonly instanceId: string;
  readonly input: unknown;
  /** Decoded replies of completed steps. */
  readonly replies: Readonly<Record<string, unknown>>;
  /** Attempts dispatched so far per step; attempt numbers are never reused. */
  readonly attempts: Readonly<Record<string, number>>;
  /** Attempt number up to which a step may still be dispatched (raised by an operator retry). */
  readonly budget: Readonly<Record<string, number>>;
  /** Forward steps with an attempt in flight, and that attempt's number. */
  readonly inFlight: Readonly<Record<string, number>>;
  readonly compensationAttempts: Readonly<Record<string, number>>;
  readonly compensationBudget: Readonly<Record<string, number>>;
  /** The compensation in flight, if any. */
  readonly compensating: { readonly step: string; readonly attempt: number } | null;
  /** Steps that completed or may have (timed out), oldest first: compensated newest first. */
  readonly toCompensate: readonly string[];
  /** Steps whose compensation is done (or resolved by hand), in order. */
  readonly compensated: readonly string[];
  /** Parallel groups in which a branch failed. */
  readonly failedGroups: readonly string[];
  readonly failure: SagaFailure | null;
  /** `prepared`: waits for confirm/cancel (two-phase start); `started`: runs (at `startAt`, if later). */
  readonly mode: 'started' | 'prepared';
  /** When the instance was created (decision time of its first event). */
  readonly createdAt: number;
  /** Delayed start: when the first step is due, or null. */
  readonly startAt: number | null;
  /** Check-backs sent while pending, and how many may be sent before the instance is stuck. */
  readonly checkBacks: number;
  readonly checkBackBudget: number | null;
}

/** What a saga machine is created with. */
export interface SagaMachineInput {
  readonly instanceId: string;
  readonly input: unknown;
  readonly mode?: 'started' | 'prepared';
  readonly at?: number;
  readonly startAt?: number | null;
}

/**
 * Operator actions. `abort`, `retry` and `skip` are machine transitions; `resume` only repeats the
 * awaited commands and re-arms the timers (same ids: nothing runs twice) and never changes state.
 */
export const interventionActions = ['abort', 'retry', 'skip', 'resume'] as const;
/** One of {@link interventionActions}. */
export type InterventionAction = (typeof interventionActions)[number];

/** Events a saga machine reacts to (besides its own delayed `xstate.after.*` events). */
export type SagaMachineEvent =
  | { readonly type: 'step.succeeded'; readonly step: string; readonly attempt: number; readonly reply: unknown }
  | { readonly type: 'step.failed'; readonly step: string; readonly attempt: number; readonly error: StepError }
  | { readonly type: 'compensation.succeeded'; readonly step: string; readonly attempt: number }
  | { readonly type: 'compensation.failed'; readonly step: string; readonly attempt: number; readonly error: StepError }
  | {
      readonly type: 'effect.deadLettered';
      readonly kind: 'action' | 'compensation';
      readonly step: string;
      readonly attempt: number;
      readonly reason: string;
    }
  | { readonly type: `operator.${InterventionAction}`; readonly step?: string; readonly by: string; readonly reason: string }
  | { readonly type: 'saga.confirmed'; readonly by: string }
  | { readonly type: 'saga.cancelled'; readonly by: string; readonly reason: string };

/** The initial context of an instance. */
export function initialContext(input: SagaMachineInput): SagaContext {
  return {
    instanceId: input.instanceId,
    input: input.input,
    replies: {},
    attempts: {},
    budget: {},
    inFlight: {},
    compensationAttempts: {},
    compensationBudget: {},
    compensating: null,
    toCompensate: [],
    compensated: [],
    failedGroups: [],
    failure: null,
    mode: input.mode ?? 'started',
    createdAt: input.at ?? 0,
    startAt: input.startAt ?? null,
    checkBacks: 0,
    checkBackBudget: null,
  };
}

/** The step whose compensation runs next: newest first, once each. */
export function nextCompensation(context: SagaContext): string | undefined {
  for (let i = context.toCompensate.length - 1; i >= 0; i--) {
    const step = context.toCompensate[i];
    if (step !== undefined && !context.compensated.includes(step)) return step;
  }
  return undefined;
}
