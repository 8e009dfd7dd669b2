import { isTerminal, type RecordedEvent, type SagaEvent, type SagaStatus, type SagaTrace } from '@sagaflow/core';

/** What an event is about. */
export type EntryKind = 'saga' | 'action' | 'compensation' | 'timer' | 'operator';

/** What happened, one word per event type. */
export type Outcome =
  | 'started'
  | 'prepared'
  | 'confirmed'
  | 'cancelled'
  | 'checkBackRequested'
  | 'dispatched'
  | 'succeeded'
  | 'failed'
  | 'timedOut'
  | 'deadLettered'
  | 'retryScheduled'
  | 'timerScheduled'
  | 'timerFired'
  | 'intervened'
  | 'completed'
  | 'compensated'
  | 'stuck';

export interface StepErrorView {
  readonly code: string;
  readonly message: string;
  /** Whether the engine would retry it; `null` where the event does not say. */
  readonly retryable: boolean | null;
}

/** One event of an instance's history, decoded and explained. Times are epoch ms here (ISO in JSON). */
export interface TimelineEntry {
  readonly revision: number;
  readonly position: number;
  /** When the engine decided it (the event's own time). */
  readonly at: number;
  /** When the store recorded it. */
  readonly recordedAt: number;
  readonly type: SagaEvent['type'];
  /** The instance status after this event. */
  readonly status: SagaStatus;
  /** Whether this event changed the status (true for the first event). */
  readonly statusChanged: boolean;
  readonly kind: EntryKind;
  /** Whether the event belongs to a compensation (kind `compensation`). */
  readonly compensation: boolean;
  readonly step: string | null;
  readonly attempt: number | null;
  readonly effectId: string | null;
  readonly outcome: Outcome;
  readonly error: StepErrorView | null;
  /** For the end of an attempt (reply, timeout, dead letter): time since its dispatch. */
  readonly durationMs: number | null;
  readonly operator: { readonly action: string; readonly by: string; readonly reason: string; readonly step: string | null } | null;
  readonly timer: { readonly timerId: string; readonly purpose: string; readonly dueAt: number; readonly delayMs: number } | null;
  /** The command of a dispatch, the reply of a step's success; `null` otherwise. */
  readonly payload: unknown;
}

/** One attempt of a step or compensation, from its dispatch to its end. */
export interface StepAttempt {
  readonly step: string;
  readonly kind: 'action' | 'compensation';
  readonly attempt: number;
  readonly effectId: string;
  readonly dispatchedAt: number;
  readonly endedAt: number | null;
  /** `pending`: still awaited; `abandoned`: no reply will be waited for any more (aborted, superseded). */
  readonly outcome: 'succeeded' | 'failed' | 'timedOut' | 'deadLettered' | 'pending' | 'abandoned';
  readonly durationMs: number | null;
  readonly error: StepErrorView | null;
}

/** Why an instance left its forward path, or why it is stuck. */
export interface FailureView {
  readonly step: string | null;
  readonly code: string;
  readonly message: string;
  readonly at: number;
}

/** The history of an instance as `show` presents it. */
export interface InstanceHistory {
  readonly saga: string;
  readonly version: number;
  readonly input: unknown;
  /** The instance's trace (its span in OpenTelemetry), when its start was traced. */
  readonly trace: SagaTrace | null;
  readonly timeline: readonly TimelineEntry[];
  readonly attempts: readonly StepAttempt[];
  /** What made the instance compensate (a step's failure or timeout, an abort), if it did. */
  readonly failure: FailureView | null;
  /** When the instance is stuck: the step or compensation it is stuck on, and why. */
  readonly stuck: (FailureView & { readonly kind: StuckKind }) | null;
}

type Kind = 'action' | 'compensation';
/** What an instance can be stuck on: a step, a compensation, or (pending, two-phase start) its check-back. */
export type StuckKind = Kind | 'checkBack';
const attemptKey = (kind: Kind, step: string, attempt: number): string => `${kind}/${step}/${attempt}`;
const kindOfPurpose = (purpose: string): EntryKind =>
  purpose.startsWith('compensation') ? 'compensation' : purpose.startsWith('step') ? 'action' : 'timer';

/**
 * Explains a decoded stream: a timeline entry per event, the attempts with their durations
 * (dispatch → reply, timeout or dead letter, by the events' own times), and the failure.
 * `recorded[i]` is the stored row of `events[i]`.
 */
export function instanceHistory(recorded: readonly RecordedEvent[], events: readonly SagaEvent[]): InstanceHistory {
  const first = events[0];
  const created = first?.type === 'SagaStarted' || first?.type === 'SagaPrepared' ? first : undefined;
  const saga = created?.saga ?? '?';
  const version = created?.sagaVersion ?? 0;
  const input = created?.input ?? null;
  const dispatched = new Map<string, { at: number; effectId: string; index: number }>();
  const attempts: StepAttempt[] = [];
  const timers = new Map<string, { purpose: string; step: string | null; dueAt: number; delayMs: number }>();
  const timeline: TimelineEntry[] = [];
  let previousStatus: SagaStatus | null = null;
  let failure: FailureView | null = null;
  let stuck: InstanceHistory['stuck'] = null;
  let lastDispatchedStep: string | null = null;

  const end = (kind: Kind, step: string, attempt: number, at: number, outcome: StepAttempt['outcome'], error: StepErrorView | null): number | null => {
    const start = dispatched.get(attemptKey(kind, step, attempt));
    if (start === undefined) return null;
    const durationMs = at - start.at;
    const open = attempts[start.index];
    if (open !== undefined && open.endedAt === null) attempts[start.index] = { ...open, endedAt: at, outcome, durationMs, error };
    return durationMs;
  };

  events.forEach((event, index) => {
    const row = recorded[index];
    let kind: EntryKind = 'saga';
    let step: string | null = null;
    let attempt: number | null = null;
    let effectId: string | null = null;
    let outcome: Outcome = 'started';
    let error: StepErrorView | null = null;
    let durationMs: number | null = null;
    let operator: TimelineEntry['operator'] = null;
    let timer: TimelineEntry['timer'] = null;
    let payload: unknown = null;
    switch (event.type) {
      case 'SagaStarted':
        outcome = 'started';
        break;
      case 'SagaPrepared':
        outcome = 'prepared';
        break;
      case 'SagaConfirmed':
        outcome = 'confirmed';
        operator = { action: 'confirm', by: event.by, reason: '', step: null };
        break;
      case 'SagaCancelled':
        outcome = 'cancelled';
        operator = { action: 'cancel', by: event.by, reason: event.reason, step: null };
        break;
      case 'CheckBackRequested':
        outcome = 'checkBackRequested';
        attempt = event.attempt;
        break;
      case 'StepDispatched':
      case 'CompensationDispatched': {
        const k: Kind = event.type === 'StepDispatched' ? 'action' : 'compensation';
        ({ step, attempt, effectId } = event);
        kind = k;
        outcome = 'dispatched';
        payload = event.command;
        dispatched.set(attemptKey(k, event.step, event.attempt), { at: event.at, effectId: event.effectId, index: attempts.length });
        attempts.push({ step: event.step, kind: k, attempt: event.attempt, effectId: event.effectId, dispatchedAt: event.at, endedAt: null, outcome: 'pending', durationMs: null, error: null });
        if (k === 'action') lastDispatchedStep = event.step;
        break;
      }
      case 'StepSucceeded':
      case 'CompensationSucceeded': {
        const k: Kind = event.type === 'StepSucceeded' ? 'action' : 'compensation';
        ({ step, attempt, effectId } = event);
        kind = k;
        outcome = 'succeeded';
        payload = event.type === 'StepSucceeded' ? event.reply : null;
        durationMs = end(k, event.step, event.attempt, event.at, 'succeeded', null);
        break;
      }
      case 'StepFailed':
      case 'CompensationFailed': {
        const k: Kind = event.type === 'StepFailed' ? 'action' : 'compensation';
        ({ step, attempt, effectId } = event);
        kind = k;
        outcome = 'failed';
        error = { code: event.error.code, message: event.error.message, retryable: event.error.retryable };
        durationMs = end(k, event.step, event.attempt, event.at, 'failed', error);
        break;
      }
      case 'StepTimedOut':
      case 'CompensationTimedOut': {
        const k: Kind = event.type === 'StepTimedOut' ? 'action' : 'compensation';
        ({ step, attempt } = event);
        kind = k;
        outcome = 'timedOut';
        durationMs = end(k, event.step, event.attempt, event.at, 'timedOut', null);
        error = { code: 'Timeout', message: `no reply within ${durationMs ?? '?'} ms`, retryable: null };
        break;
      }
      case 'EffectDeadLettered':
        ({ step, attempt, effectId, kind } = event);
        outcome = 'deadLettered';
        error = { code: 'DeadLettered', message: event.reason, retryable: null };
        durationMs = end(event.kind, event.step, event.attempt, event.at, 'deadLettered', error);
        break;
      case 'RetryScheduled':
      case 'TimerScheduled':
        kind = kindOfPurpose(event.purpose);
        step = event.step;
        outcome = event.type === 'RetryScheduled' ? 'retryScheduled' : 'timerScheduled';
        timer = { timerId: event.timerId, purpose: event.purpose, dueAt: event.dueAt, delayMs: event.dueAt - event.at };
        timers.set(event.timerId, { purpose: event.purpose, step: event.step, dueAt: event.dueAt, delayMs: event.dueAt - event.at });
        break;
      case 'TimerFired': {
        const known = timers.get(event.timerId);
        kind = known === undefined ? 'timer' : kindOfPurpose(known.purpose);
        step = known?.step ?? null;
        outcome = 'timerFired';
        timer = known === undefined ? null : { timerId: event.timerId, purpose: known.purpose, dueAt: known.dueAt, delayMs: known.delayMs };
        break;
      }
      case 'OperatorIntervened':
        kind = 'operator';
        step = event.step;
        outcome = 'intervened';
        operator = { action: event.action, by: event.by, reason: event.reason, step: event.step };
        break;
      case 'SagaCompleted':
        outcome = 'completed';
        break;
      case 'SagaCompensated':
        outcome = 'compensated';
        if (event.failure !== null) failure = { ...event.failure, at: failure?.at ?? event.at };
        break;
      case 'SagaStuck': {
        step = event.step;
        outcome = 'stuck';
        const lastEnd = [...attempts].reverse().find((candidate) => candidate.step === event.step && candidate.endedAt !== null);
        const stuckKind: StuckKind = lastEnd?.kind ?? (event.step === 'check-back' ? 'checkBack' : 'action');
        kind = stuckKind === 'checkBack' ? 'saga' : stuckKind;
        error = event.error === null ? null : { code: event.error.code, message: event.error.message, retryable: event.error.retryable };
        stuck = {
          kind: stuckKind,
          step: event.step,
          code: event.error?.code ?? (lastEnd?.outcome === 'timedOut' ? 'Timeout' : stuckKind === 'checkBack' ? 'Unconfirmed' : 'Stuck'),
          message:
            event.error?.message ??
            (lastEnd?.outcome === 'timedOut'
              ? `no reply within ${lastEnd.durationMs ?? '?'} ms, retry budget spent`
              : stuckKind === 'checkBack'
                ? 'the upstream never answered whether it committed (two-phase start)'
                : 'retry budget spent'),
          at: event.at,
        };
        break;
      }
      default: {
        // A new event type must be explained here before it can be shown.
        const unexplained: never = event;
        void unexplained;
      }
    }
    // The first move off the forward path names the cause (SagaCompensated, when it comes, has the engine's own words).
    if (failure === null && (event.status === 'compensating' || event.status === 'compensated') && previousStatus !== null && previousStatus !== event.status) {
      failure = causeOf(event, lastDispatchedStep, durationMs, timer?.purpose);
    }
    timeline.push({
      revision: row?.revision ?? index,
      position: row?.position ?? -1,
      at: event.at,
      recordedAt: row?.recordedAt ?? event.at,
      type: event.type,
      status: event.status,
      statusChanged: event.status !== previousStatus,
      kind,
      compensation: kind === 'compensation',
      step,
      attempt,
      effectId,
      outcome,
      error,
      durationMs,
      operator,
      timer,
      payload,
    });
    previousStatus = event.status;
  });

  const last = events.at(-1);
  const finished = last !== undefined && isTerminal(last.status);
  const settled = attempts.map((entry, index): StepAttempt => {
    if (entry.endedAt !== null) return entry;
    const superseded = attempts.slice(index + 1).some((later) => later.kind === entry.kind && later.step === entry.step);
    return finished || superseded ? { ...entry, outcome: 'abandoned' } : entry;
  });
  return { saga, version, input, trace: created?.trace ?? null, timeline, attempts: settled, failure, stuck: last?.status === 'stuck' ? stuck : null };
}

/** The failure an input event that started the compensation stands for. */
function causeOf(event: SagaEvent, lastDispatchedStep: string | null, durationMs: number | null, timerPurpose: string | undefined): FailureView {
  switch (event.type) {
    case 'StepFailed':
      return { step: event.step, code: event.error.code, message: event.error.message, at: event.at };
    case 'StepTimedOut':
      return { step: event.step, code: 'Timeout', message: `no reply within ${durationMs ?? '?'} ms (attempt ${event.attempt})`, at: event.at };
    case 'OperatorIntervened':
      return { step: event.step ?? lastDispatchedStep, code: event.action === 'abort' ? 'Aborted' : event.action, message: `${event.action} by ${event.by}: ${event.reason}`, at: event.at };
    case 'EffectDeadLettered':
      return { step: event.step, code: 'DeadLettered', message: event.reason, at: event.at };
    case 'TimerFired':
      if (timerPurpose === 'sagaDeadline') return { step: lastDispatchedStep, code: 'DeadlineExceeded', message: "the saga's deadline passed", at: event.at };
      return { step: lastDispatchedStep, code: 'TimerFired', message: `compensation began when a ${timerPurpose ?? 'timer'} fired`, at: event.at };
    default: {
      const step = 'step' in event && typeof event.step === 'string' ? event.step : lastDispatchedStep;
      return { step, code: event.type, message: `compensation began at ${event.type}`, at: event.at };
    }
  }
}

/** Nearest-rank percentile of sorted values (`p` from 0 to 100). */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] ?? null;
}
