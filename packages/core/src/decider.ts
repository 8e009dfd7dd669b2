import * as E from 'fp-ts/lib/Either.js';
import { advance } from './advance.js';
import { commit, effectOf } from './commit.js';
import type { Effect } from './effects.js';
import { sagaError, type SagaError } from './errors.js';
import { outstandingEffects, statusOf, type InstanceState } from './instance-state.js';
import { toInputEvent } from './input-events.js';
import type { SagaRegistry } from './registry.js';
import type { InterventionAction } from './saga-context.js';
import type { SagaEvent, SagaTrace } from './saga-events.js';

/** Outcome a worker reports for a dispatched effect. */
export type ReplyOutcome =
  | { readonly ok: true; readonly reply?: unknown }
  | { readonly ok: false; readonly error: { readonly code: string; readonly message: string; readonly retryable?: boolean } };

/** Something that happens to an instance. */
export type SagaInput =
  | { readonly type: 'start'; readonly saga: string; readonly instanceId: string; readonly input: unknown; readonly startAt?: number; readonly trace?: SagaTrace }
  | { readonly type: 'prepare'; readonly saga: string; readonly instanceId: string; readonly input: unknown; readonly trace?: SagaTrace }
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

