import * as E from 'fp-ts/lib/Either.js';
import { advance } from './advance.js';
import { commit } from './commit.js';
import { sagaError, type SagaError } from './errors.js';
import type { InstanceState } from './instance-state.js';
import type { SagaRegistry } from './registry.js';
import { isInputEvent as isInput, type SagaEvent } from './saga-events.js';

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


/** What makes two decisions the same decision: kind, step, attempt, timer purpose. */
function signature(event: SagaEvent): string {
  const e = event as { type: string; step?: string | null; attempt?: number; purpose?: string };
  return [e.type, e.step ?? '', e.attempt ?? '', e.purpose ?? ''].join(' ').trim();
}

