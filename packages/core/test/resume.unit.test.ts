/** resume: repeat what an instance waits for (same ids), without changing its state. */
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { type SagaInput } from '../src/decider.js';
import { replay } from '../src/replay.js';
import { createRegistry } from '../src/registry.js';
import { operator, sagaSpec, stepSucceeds } from './support/saga-spec.js';
import { orderFulfilment, orderInput } from './support/test-sagas.js';

const registry = createRegistry([orderFulfilment]);
const id = 'order-5';
const start: SagaInput = { type: 'start', saga: 'order-fulfilment', instanceId: id, input: orderInput };
const charging = sagaSpec(registry).given(start, stepSucceeds('reserveInventory', { reservationId: 'res-1' }));

describe('operator resume', () => {
  it('repeats the awaited command under its effect id and re-arms its timer; the state does not move', () => {
    const outcome = charging.when(operator('resume', { by: 'ops', reason: 'worker fixed' })).then({
      events: [{ type: 'OperatorIntervened', action: 'resume', by: 'ops', reason: 'worker fixed', status: 'running', state: { chargePayment: 'attempt' } }],
      effects: [
        { type: 'dispatch', id: `${id}/chargePayment/action/1`, attempt: 1 },
        { type: 'schedule', timerId: `${id}/timer/5` },
      ],
      state: { chargePayment: 'attempt' },
      status: 'running',
    });
    const replayed = replay(registry, id, outcome.history);
    expect(E.isRight(replayed) && replayed.right.revision).toBe(outcome.state?.revision);
  });

  it('is refused when the instance waits for nothing', () => {
    const done = charging.given(stepSucceeds('chargePayment', { paymentId: 'p' }), stepSucceeds('createShipment', { trackingNumber: 't' }));
    const error = done.when(operator('resume')).thenFails({ _tag: 'InterventionRefused', action: 'resume', status: 'completed' });
    expect(error.message).toContain('it waits for no command or timer');
  });
});
