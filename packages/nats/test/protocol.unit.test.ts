import * as E from 'fp-ts/lib/Either.js';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { effectId, effectKey, type DispatchEffect } from '@sagaflow/core';
import { commandHeaders, header, readCommandEnvelope, type CommandConsumer } from '../src/protocol.js';

const refund: DispatchEffect = {
  type: 'dispatch',
  id: effectId('order/7', 'chargePayment', 'compensation', 2),
  key: effectKey('order/7', 'chargePayment', 'compensation'),
  kind: 'compensation',
  saga: 'order-fulfilment',
  instanceId: 'order/7',
  step: 'chargePayment',
  operation: 'refundPayment',
  attempt: 2,
  command: { paymentId: 'p-1' },
};
const consumer: CommandConsumer = { saga: 'order-fulfilment', operation: 'refundPayment', replyTo: (instanceId) => `sagaflow.reply.order-fulfilment.${instanceId.length}` };
const { command: _command, ...identity } = refund;

describe('command headers', () => {
  it('compact: only the instance and the effect id; a worker reads the rest off its consumer', () => {
    const h = commandHeaders(refund, consumer.replyTo(refund.instanceId));
    expect([...h.keys()].sort()).toEqual([header.effect, header.instance].sort());
    expect(readCommandEnvelope(h, consumer)).toEqual(E.right({ effect: identity, replyTo: consumer.replyTo(identity.instanceId) }));
  });

  it('full: every field, read as before whatever the consumer says', () => {
    const h = commandHeaders(refund, 'sagaflow.reply.elsewhere', 'full');
    expect(h.get(header.key)).toBe(refund.key);
    expect(h.get(header.operation)).toBe('refundPayment');
    const other: CommandConsumer = { saga: 'trip', operation: 'bookHotel', replyTo: () => 'sagaflow.reply.trip' };
    expect(readCommandEnvelope(h, other)).toEqual(E.right({ effect: identity, replyTo: 'sagaflow.reply.elsewhere' }));
  });

  it('compact: step names may hold slashes, the effect id is read from its end', () => {
    const effect = { ...identity, id: effectId('i/1', 'a/b', 'action', 12), key: effectKey('i/1', 'a/b', 'action'), instanceId: 'i/1', step: 'a/b', kind: 'action' as const, attempt: 12 };
    const h = natsHeaders();
    h.set(header.instance, 'i/1');
    h.set(header.effect, effect.id);
    expect(readCommandEnvelope(h, consumer)).toEqual(E.right({ effect: { ...effect, operation: 'refundPayment' }, replyTo: consumer.replyTo(effect.instanceId) }));
  });

  it('names what is missing or malformed', () => {
    const only = (pairs: [string, string][]) => {
      const h = natsHeaders();
      for (const [name, value] of pairs) h.set(name, value);
      return readCommandEnvelope(h, consumer);
    };
    expect(readCommandEnvelope(undefined, consumer)).toEqual(E.left('missing header(s) Sagaflow-Instance, Sagaflow-Effect'));
    expect(only([[header.instance, 'o-1']])).toEqual(E.left('missing header(s) Sagaflow-Effect'));
    const malformed = ['o-2/chargePayment/action/1', 'o-1/action/1', 'o-1/chargePayment/refund/1', 'o-1/chargePayment/action/0', 'o-1/chargePayment/action/x', 'o-1/chargePayment/action/'];
    for (const id of malformed) {
      expect(only([[header.instance, 'o-1'], [header.effect, id]])).toEqual(E.left(`header Sagaflow-Effect is "${id}", expected o-1/<step>/<action|compensation>/<attempt>`));
    }
    // A full-form command is checked as one: its kind header says which form it is.
    expect(only([[header.instance, 'o-1'], [header.effect, 'o-1/s/action/1'], [header.kind, 'action']])).toEqual(
      E.left('missing header(s) Sagaflow-Key, Sagaflow-Saga, Sagaflow-Step, Sagaflow-Operation, Sagaflow-Attempt, Sagaflow-Reply-To'),
    );
  });
});
