import * as E from 'fp-ts/lib/Either.js';
import { decodeWith, type DecodeProblem } from './codec.js';
import { sagaError, type SagaError } from './errors.js';
import type { RecordedEvent } from './event-store.js';
import { SagaEvent } from './saga-events.js';

/** Encodes an event for the store. */
export const encodeEvent = (event: SagaEvent): { type: string; json: string } => ({ type: event.type, json: JSON.stringify(event) });

/** Decodes a stored event, naming the offending field when the row is corrupted. */
export function decodeRecorded(recorded: RecordedEvent): E.Either<SagaError, SagaEvent> {
  let value: unknown;
  try {
    value = JSON.parse(recorded.json);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return E.left(sagaError.corruptEvent(recorded.instanceId, recorded.revision, [{ path: '(root)', expected: 'JSON', actual: reason }]));
  }
  const decoded = decodeWith(SagaEvent, value);
  if (E.isRight(decoded)) return decoded;
  const byType = typeof value === 'object' && value !== null && 'type' in value ? narrowed(value) : decoded.left;
  return E.left(sagaError.corruptEvent(recorded.instanceId, recorded.revision, byType));
}

/** A union reports every member's complaint; decode against the member the `type` names instead. */
function narrowed(value: object): readonly DecodeProblem[] {
  const type = (value as { type: unknown }).type;
  const member = SagaEvent.types.flatMap((union) => union.types as readonly { name: string }[]).find((codec) => codec.name === type);
  if (member === undefined) return [{ path: 'type', expected: 'a saga event type', actual: JSON.stringify(type) }];
  const result = decodeWith(member as never, value);
  return E.isLeft(result) ? result.left : [];
}

/** Decodes a whole stream; the first corrupted row stops it. */
export function decodeStream(recorded: readonly RecordedEvent[]): E.Either<SagaError, SagaEvent[]> {
  const events: SagaEvent[] = [];
  for (const row of recorded) {
    const decoded = decodeRecorded(row);
    if (E.isLeft(decoded)) return decoded;
    events.push(decoded.right);
  }
  return E.right(events);
}
