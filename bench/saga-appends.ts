/** The store appends of the standard workload's sagas, built as the engine builds them, for the benches of the store. */
import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { createRegistry, decide, encodeEvent, noStream, summaryOf, type AppendRequest, type DispatchEffect, type InstanceState } from '@sagaflow/core';
import benchOrder from './sagas/bench-order.saga.js';
import { driveSaga } from './step-replies.js';
import type { InstanceIds } from './steps.js';

const registry = createRegistry([benchOrder]);
let clock = Date.now();

/** Every append request one saga of the workload makes, in order (one per input it decides), as the engine builds them. */
export function appendsOfSaga(index: number, failShipment: boolean, ids: InstanceIds = 'sequential'): AppendRequest[] {
  const instanceId = ids === 'uuid' ? randomUUID() : `order-${index}-${failShipment ? 'w2' : 'w1'}-${clock.toString(36)}`;
  const requests: AppendRequest[] = [];
  let state: InstanceState | null = null;
  driveSaga(instanceId, failShipment, (input) => {
    const decision = decide(registry, state, input, clock++);
    if (E.isLeft(decision) || decision.right.state === null) throw new Error(`decide failed for ${instanceId}`);
    const next = decision.right.state;
    requests.push({ instanceId, expectedRevision: state?.revision ?? noStream, events: decision.right.events.map(encodeEvent), summary: summaryOf(next) });
    state = next;
    return decision.right.effects.filter((effect): effect is DispatchEffect => effect.type === 'dispatch');
  });
  return requests;
}
