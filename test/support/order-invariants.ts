import { createRegistry, type EventStore, type SagaEvent } from '@sagaflow/core';
import orderFulfilment from '../../sagas/order-fulfilment.saga.js';
import { orderExample } from '../../examples/order-fulfilment/order-example.js';
import { orderPlan } from '../../examples/order-fulfilment/order-services.js';
import { expectSettledOnce } from './saga-invariants.js';

const registry = createRegistry([orderFulfilment]);

/**
 * Every shipment attempt of a completed order is accounted for: each ended failed (at most the two
 * scheduled failures) or timed out (possible while a broker or a worker is down), except one success.
 */
function shipmentAccounted(n: number, events: readonly SagaEvent[]): string | null {
  if (orderPlan.paymentDeclined(n)) return null;
  const shipment = events.filter((event) => 'step' in event && event.step === 'createShipment');
  const count = (type: string): number => shipment.filter((event) => event.type === type).length;
  const [attempts, failed, timedOut, succeeded] = ['StepDispatched', 'StepFailed', 'StepTimedOut', 'StepSucceeded'].map(count) as [number, number, number, number];
  const scheduled = orderPlan.shipmentFailsTwice(n) ? 2 : 0;
  const accounted = succeeded === 1 && attempts === failed + timedOut + 1 && failed <= scheduled && failed + timedOut >= scheduled;
  return accounted ? null : `createShipment attempts not accounted for: ${shipment.map((e) => e.type).join(', ')}`;
}

/**
 * Checks a finished run of orders `0 … count-1` against the failure schedule: each ends as the
 * schedule dictates, every business effect and compensation was applied exactly once in the
 * services' databases, each stream has one terminal event and no decision twice, and replays.
 */
export function expectOrdersSettledOnce(store: EventStore, databases: readonly string[], count: number): Promise<{ duplicates: number }> {
  return expectSettledOnce(orderExample, registry, store, databases, count, shipmentAccounted);
}
