import * as E from 'fp-ts/lib/Either.js';
import { expect } from 'vitest';
import { createRegistry, decodeStream, replay, type EventStore } from '@sagaflow/core';
import orderFulfilment from '../../sagas/order-fulfilment.saga.js';
import { orderPlan, readLedger } from '../../examples/order-fulfilment/order-services.js';

const registry = createRegistry([orderFulfilment]);

/**
 * Checks a finished run of orders `0 … count-1` against the failure schedule: each ends as the
 * schedule dictates, every business effect and compensation was applied exactly once in the
 * services' databases, each stream has one terminal event and no decision twice, and replays.
 */
export async function expectOrdersSettledOnce(store: EventStore, databases: readonly string[], count: number): Promise<{ duplicates: number }> {
  const ledger = readLedger(databases);
  const twice = [...ledger.applied].filter(([, times]) => times !== 1);
  expect(twice, 'business effects applied more than once').toEqual([]);

  const problems: string[] = [];
  for (let n = 0; n < count; n++) {
    const id = `order-${n}`;
    const expected = orderPlan.paymentDeclined(n) ? 'compensated' : 'completed';
    const summary = await store.getInstance(id);
    if (summary?.status !== expected) problems.push(`${id}: ${summary?.status ?? 'missing'} instead of ${expected}`);
    const operations = [...(ledger.operations.get(id) ?? [])].sort().join(',');
    const wanted = expected === 'completed' ? 'chargePayment,createShipment,reserveInventory' : 'releaseInventory,reserveInventory';
    if (operations !== wanted) problems.push(`${id}: applied [${operations}] instead of [${wanted}]`);

    const events = decodeStream(await store.readStream(id));
    if (E.isLeft(events)) {
      problems.push(`${id}: ${events.left.message}`);
      continue;
    }
    const seen = new Set<string>();
    for (const event of events.right) {
      if (event.type !== 'StepDispatched' && event.type !== 'CompensationDispatched' && event.type !== 'StepSucceeded' && event.type !== 'CompensationSucceeded') continue;
      const signature = `${event.type}/${event.step}/${event.attempt}`;
      if (seen.has(signature)) problems.push(`${id}: ${signature} recorded twice`);
      seen.add(signature);
    }
    const terminal = events.right.filter((event) => event.type === 'SagaCompleted' || event.type === 'SagaCompensated').length;
    if (terminal !== 1) problems.push(`${id}: ${terminal} terminal events`);
    const state = replay(registry, id, events.right);
    if (E.isLeft(state)) problems.push(`${id}: replay failed: ${state.left.message}`);
    // Every shipment attempt is accounted for: each ended failed (at most the two scheduled
    // failures) or timed out (possible while a broker or a worker is down), except one success.
    if (expected === 'completed') {
      const shipment = events.right.filter((event) => 'step' in event && event.step === 'createShipment');
      const count = (type: string): number => shipment.filter((event) => event.type === type).length;
      const [attempts, failed, timedOut, succeeded] = ['StepDispatched', 'StepFailed', 'StepTimedOut', 'StepSucceeded'].map(count) as [number, number, number, number];
      const scheduled = orderPlan.shipmentFailsTwice(n) ? 2 : 0;
      const accounted = succeeded === 1 && attempts === failed + timedOut + 1 && failed <= scheduled && failed + timedOut >= scheduled;
      if (!accounted) problems.push(`${id}: createShipment attempts not accounted for: ${shipment.map((e) => e.type).join(', ')}`);
    }
  }
  expect(problems.slice(0, 20), `${problems.length} problem(s)`).toEqual([]);
  return { duplicates: ledger.duplicates };
}
