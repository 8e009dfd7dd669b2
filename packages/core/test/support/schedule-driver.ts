/**
 * Drives one instance through the pure decider along a failure schedule, as workers and timers
 * would: every outstanding dispatch is answered as the schedule says (a `timeout` is never
 * answered), and when none is left the earliest armed timer fires. Then `checkRun` lists every
 * way the run breaks the failure semantics of ARCHITECTURE.md. Used by the property tests.
 */
import * as E from 'fp-ts/lib/Either.js';
import { decide, type SagaInput } from '../../src/decider.js';
import { replay } from '../../src/replay.js';
import type { DispatchEffect, Effect } from '../../src/effects.js';
import { contextOf, outstandingEffects, type InstanceState } from '../../src/instance-state.js';
import type { SagaRegistry } from '../../src/registry.js';
import type { AnySagaDefinition } from '../../src/saga-definition.js';
import type { SagaEvent } from '../../src/saga-events.js';

/** How one attempt of a step ends. `classified`: an error code the step lists as non-retryable. */
export type AttemptOutcome = 'ok' | 'retryable' | 'fatal' | 'classified' | 'timeout';

export interface FailureSchedule {
  /** Outcome of attempt n of a step at index n - 1; `ok` past the end. */
  readonly steps: Readonly<Record<string, readonly AttemptOutcome[]>>;
  /** Compensation attempts 1..failures of a step fail (`timeouts[n - 1]`: by timing out), later ones succeed. */
  readonly compensations: Readonly<Record<string, { readonly failures: number; readonly timeouts: readonly boolean[] }>>;
  /** What the operator does about a stuck instance; `retry` and `skip` up to `maxInterventions` times. */
  readonly whenStuck: 'leave' | 'retry' | 'skip';
  /** Which outstanding dispatch is answered next (index modulo their number), in turn. */
  readonly picks: readonly number[];
  /** An operator aborts after this many inputs, if the instance is still running. */
  readonly abortAfter: number | null;
}

export interface Run {
  readonly instanceId: string;
  readonly definition: AnySagaDefinition;
  readonly events: readonly SagaEvent[];
  readonly effects: readonly Effect[];
  readonly state: InstanceState;
  /** Successful replies sent, by `<step>#<attempt>`. */
  readonly replies: ReadonlyMap<string, unknown>;
  /** Steps in flight when the operator aborted, `null` if nobody did. */
  readonly inFlightAtAbort: readonly string[] | null;
  /** What went wrong while driving: refused inputs, stale inputs that were not ignored. */
  readonly problems: readonly string[];
}

const maxInputs = 500;
const maxInterventions = 3;

/** Runs an instance to its end along the schedule. `replyOf` gives the reply of a successful attempt. */
export function driveSchedule(
  registry: SagaRegistry,
  start: { readonly saga: string; readonly instanceId: string; readonly input: unknown },
  schedule: FailureSchedule,
  replyOf: (step: string, attempt: number) => unknown,
): Run {
  const events: SagaEvent[] = [];
  const effects: Effect[] = [];
  const problems: string[] = [];
  const replies = new Map<string, unknown>();
  let state: InstanceState | null = null;
  let clock = 0;
  let inputs = 0;
  let picks = 0;
  let interventions = 0;
  let inFlightAtAbort: string[] | null = null;

  const apply = (input: SagaInput, now: number): boolean => {
    inputs++;
    const decided = decide(registry, state, input, now);
    if (E.isLeft(decided)) {
      problems.push(`${JSON.stringify(input)} was refused: ${decided.left.message}`);
      return false;
    }
    state = decided.right.state;
    events.push(...decided.right.events);
    effects.push(...decided.right.effects);
    return true;
  };
  /** A repeated or late input must change nothing. */
  const ignored = (input: SagaInput, why: string): void => {
    const decided = decide(registry, state, input, clock);
    if (E.isLeft(decided)) problems.push(`${why} ${JSON.stringify(input)} was refused: ${decided.left.message}`);
    else if (decided.right.events.length > 0 || decided.right.effects.length > 0) {
      problems.push(`${why} ${JSON.stringify(input)} decided ${decided.right.events.map((event) => event.type).join(', ')}`);
    }
  };

  if (!apply({ type: 'start', ...start }, clock)) throw new Error(problems.join('; '));
  const definition = (state as InstanceState | null)?.definition;
  if (definition === undefined) throw new Error('no state after start');

  while (state !== null && inputs < maxInputs) {
    const current: InstanceState = state;
    if (schedule.abortAfter !== null && inFlightAtAbort === null && inputs >= schedule.abortAfter && current.status === 'running') {
      const inFlight = Object.keys(contextOf(current).inFlight);
      if (!apply({ type: 'intervene', action: 'abort', by: 'property', reason: 'random abort' }, clock)) break;
      inFlightAtAbort = inFlight;
      continue;
    }
    const outstanding = outstandingEffects(current);
    const answerable = outstanding.filter((effect): effect is DispatchEffect => effect.type === 'dispatch' && outcomeOf(schedule, effect) !== 'timeout');
    if (answerable.length > 0) {
      const pick = schedule.picks.length === 0 ? 0 : (schedule.picks[picks++ % schedule.picks.length] ?? 0);
      const dispatch = answerable[pick % answerable.length] as DispatchEffect;
      const reply = replyTo(definition, dispatch, outcomeOf(schedule, dispatch), replyOf);
      if (dispatch.kind === 'action' && reply.outcome.ok) replies.set(`${dispatch.step}#${dispatch.attempt}`, reply.outcome.reply);
      if (!apply(reply, clock)) break;
      ignored(reply, 'a duplicate of');
      continue;
    }
    const timers = [...current.timers.values()].sort((a, b) => a.dueAt - b.dueAt || revisionOf(a.timerId) - revisionOf(b.timerId));
    const next = timers[0];
    if (next !== undefined) {
      clock = Math.max(clock, next.dueAt);
      const timedOut = next.purpose === 'stepTimeout' ? [...current.dispatches.values()].find((d) => d.kind === 'action' && d.step === next.step) : undefined;
      if (!apply({ type: 'timer', timerId: next.timerId }, clock)) break;
      ignored({ type: 'timer', timerId: next.timerId }, 'a timer fired again:');
      if (timedOut !== undefined) ignored(replyTo(definition, timedOut, 'ok', replyOf), 'a late reply to a timed-out attempt:');
      continue;
    }
    if (current.status === 'stuck' && schedule.whenStuck !== 'leave' && interventions < maxInterventions) {
      interventions++;
      if (!apply({ type: 'intervene', action: schedule.whenStuck, by: 'property', reason: 'stuck' }, clock)) break;
      continue;
    }
    break;
  }
  if (state === null) throw new Error('no state');
  return { instanceId: start.instanceId, definition, events, effects, state, replies, inFlightAtAbort, problems };
}

function outcomeOf(schedule: FailureSchedule, dispatch: DispatchEffect): AttemptOutcome {
  if (dispatch.kind === 'action') return schedule.steps[dispatch.step]?.[dispatch.attempt - 1] ?? 'ok';
  const plan = schedule.compensations[dispatch.step];
  if (plan === undefined || dispatch.attempt > plan.failures) return 'ok';
  return plan.timeouts[dispatch.attempt - 1] === true ? 'timeout' : 'retryable';
}

function replyTo(
  definition: AnySagaDefinition,
  dispatch: DispatchEffect,
  outcome: AttemptOutcome,
  replyOf: (step: string, attempt: number) => unknown,
): SagaInput & { type: 'reply' } {
  const reply = (ok: boolean, error?: { code: string; retryable?: boolean }): SagaInput & { type: 'reply' } => ({
    type: 'reply',
    effectId: dispatch.id,
    outcome: ok ? { ok: true, ...(dispatch.kind === 'action' ? { reply: replyOf(dispatch.step, dispatch.attempt) } : {}) } : { ok: false, error: { message: 'scheduled failure', code: 'Unavailable', ...error } },
  });
  switch (outcome) {
    case 'ok':
    case 'timeout':
      return reply(true);
    case 'retryable':
      return reply(false);
    case 'fatal':
      return reply(false, { code: 'Broken', retryable: false });
    case 'classified': {
      const code = definition.steps.get(dispatch.step)?.nonRetryable?.[0];
      return code === undefined ? reply(false, { code: 'Broken', retryable: false }) : reply(false, { code });
    }
  }
}

const revisionOf = (timerId: string): number => Number(timerId.slice(timerId.lastIndexOf('/') + 1));

export interface CheckOptions {
  /** For each compensable step, the field its compensation command copies from the reply (null when the outcome is unknown). */
  readonly replyField?: Readonly<Record<string, string>>;
  /** A completed run must have completed every step (true unless the machine branches). */
  readonly everyStepCompletes?: boolean;
}

/** Every way a finished run breaks the failure semantics; empty when it keeps them. */
export function checkRun(registry: SagaRegistry, run: Run, options: CheckOptions = {}): string[] {
  const problems = [...run.problems];
  const { events, state, definition } = run;
  const steps = definition.steps;
  const compensable = (step: string): boolean => steps.get(step)?.compensation !== undefined;
  const of = <T extends SagaEvent['type']>(type: T) => events.filter((event): event is Extract<SagaEvent, { type: T }> => event.type === type);

  // Ends completed, compensated or stuck, with nothing left to do (unless stuck).
  if (!['completed', 'compensated', 'stuck'].includes(state.status)) problems.push(`ends ${state.status}`);
  const left = outstandingEffects(state);
  if (left.length > 0) problems.push(`ends ${state.status} with outstanding effects ${left.map((e) => (e.type === 'dispatch' || e.type === 'checkBack' ? e.id : e.timerId)).join(', ')}`);
  const last = events.at(-1);
  if (last?.status !== state.status) problems.push(`last event says ${String(last?.status)}, the state ${state.status}`);

  // The steps to compensate: those that completed or timed out, in that order, then those in flight at an abort.
  const touched: string[] = [];
  const abortIndex = events.findIndex((event) => event.type === 'OperatorIntervened' && event.action === 'abort');
  events.forEach((event, index) => {
    if ((event.type === 'StepSucceeded' || event.type === 'StepTimedOut') && compensable(event.step) && !touched.includes(event.step)) {
      if (abortIndex === -1 || index < abortIndex) touched.push(event.step);
    }
  });
  for (const step of run.inFlightAtAbort ?? []) if (compensable(step) && !touched.includes(step)) touched.push(step);
  const expectedOrder = [...touched].reverse();

  // Compensated steps: by a successful compensation or skipped by hand, in order.
  const resolved: string[] = [];
  let stuckOn: string | null = null;
  for (const event of events) {
    if (event.type === 'CompensationSucceeded') resolved.push(event.step);
    if (event.type === 'SagaStuck') stuckOn = event.step;
    if (event.type === 'OperatorIntervened' && event.action === 'skip' && stuckOn !== null) resolved.push(stuckOn);
  }
  if (new Set(resolved).size !== resolved.length) problems.push(`a step was compensated twice: ${resolved.join(', ')}`);
  const compensationsStarted = of('CompensationDispatched').length > 0;
  switch (state.status) {
    case 'completed':
      if (compensationsStarted) problems.push('completed after compensating');
      if (options.everyStepCompletes !== false) {
        for (const step of steps.keys()) if (!of('StepSucceeded').some((e) => e.step === step)) problems.push(`completed without ${step}`);
      }
      break;
    case 'compensated':
      if (resolved.join(',') !== expectedOrder.join(',')) problems.push(`compensated ${resolved.join(', ') || '(none)'}; expected ${expectedOrder.join(', ') || '(none)'}`);
      break;
    case 'stuck': {
      const done = expectedOrder.slice(0, resolved.length);
      if (resolved.join(',') !== done.join(',')) problems.push(`stuck after compensating ${resolved.join(', ')}; expected a prefix of ${expectedOrder.join(', ')}`);
      const stuck = Object.keys((state.snapshot.value as { compensating?: object }).compensating ?? {})[0];
      if (stuck !== expectedOrder[resolved.length]) problems.push(`stuck on ${String(stuck)}; expected ${String(expectedOrder[resolved.length])}`);
      break;
    }
    default:
      break;
  }

  // No forward dispatch once the saga gave up: a failure for good, a spent budget, an abort.
  const givenUp = events.findIndex(
    (event) =>
      (event.type === 'StepFailed' && !event.error.retryable) ||
      ((event.type === 'StepFailed' || event.type === 'StepTimedOut') && event.attempt >= (steps.get(event.step)?.retryPolicy.maxAttempts ?? 0)) ||
      (event.type === 'OperatorIntervened' && event.action === 'abort') ||
      event.type === 'CompensationDispatched',
  );
  if (givenUp !== -1) {
    const late = events.slice(givenUp).filter((event) => event.type === 'StepDispatched');
    if (late.length > 0) problems.push(`forward dispatch after ${events[givenUp]?.type ?? ''} at revision ${givenUp}: ${late.map((e) => `${e.step}#${e.attempt}`).join(', ')}`);
  }

  // Effect ids: unique per attempt, `<key>/<attempt>`, attempts numbered 1, 2, 3... per key; budgets kept.
  const dispatches = run.effects.filter((effect): effect is DispatchEffect => effect.type === 'dispatch');
  const ids = dispatches.map((d) => d.id);
  if (new Set(ids).size !== ids.length) problems.push(`an effect id was dispatched twice: ${ids.join(', ')}`);
  const attemptsByKey = new Map<string, number>();
  for (const d of dispatches) {
    if (d.id !== `${d.key}/${d.attempt}`) problems.push(`effect id ${d.id} is not key ${d.key} + attempt ${d.attempt}`);
    const expected = (attemptsByKey.get(d.key) ?? 0) + 1;
    if (d.attempt !== expected) problems.push(`${d.key} dispatched attempt ${d.attempt} after ${expected - 1}`);
    attemptsByKey.set(d.key, d.attempt);
    const step = steps.get(d.step);
    if (d.kind === 'action' && step !== undefined && d.attempt > step.retryPolicy.maxAttempts) problems.push(`${d.id} is past the budget of ${step.retryPolicy.maxAttempts}`);
  }

  // A compensation gets the reply of the attempt that succeeded, or none when the outcome is unknown.
  for (const event of of('CompensationDispatched')) {
    const field = options.replyField?.[event.step];
    if (field === undefined) continue;
    const success = of('StepSucceeded').find((e) => e.step === event.step);
    const expected = success === undefined ? null : (run.replies.get(`${event.step}#${success.attempt}`) as Record<string, unknown> | undefined)?.[field];
    const actual = (event.command as Record<string, unknown>)[field];
    if (actual !== expected) problems.push(`compensation of ${event.step} was given ${field} ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
  }

  // Replay gives the same state.
  const replayed = replay(registry, run.instanceId, events);
  if (E.isLeft(replayed)) problems.push(`replay failed: ${replayed.left.message}`);
  else {
    const again = replayed.right;
    if (JSON.stringify(again.snapshot.value) !== JSON.stringify(state.snapshot.value)) problems.push('replay gives another state value');
    if (JSON.stringify(again.snapshot.context) !== JSON.stringify(state.snapshot.context)) problems.push('replay gives another context');
    if (again.status !== state.status) problems.push(`replay gives status ${again.status}`);
    if (again.revision !== state.revision || again.revision !== events.length - 1) problems.push(`replay gives revision ${again.revision}, decided ${state.revision}`);
    if (JSON.stringify([...again.timers.keys()]) !== JSON.stringify([...state.timers.keys()])) problems.push('replay gives other timers');
  }
  return problems;
}
