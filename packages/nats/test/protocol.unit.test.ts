import * as E from 'fp-ts/lib/Either.js';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { effectId, effectKey, type DispatchEffect } from '@sagaflow/core';
import { commandHeaders, compactReplyBody, effectOfMessage, header, readCommandEnvelope, readReply, replyBody, replyMsgId, type CommandConsumer } from '../src/protocol.js';

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
  it('minimal (the default): no header but the message id, the effect id; a worker reads the rest off it and its consumer', () => {
    const h = commandHeaders(refund, consumer.replyTo(refund.instanceId));
    expect([...h.keys()]).toEqual([]);
    h.set(header.msgId, refund.id);
    expect(readCommandEnvelope(h, consumer)).toEqual(E.right({ effect: identity, replyTo: consumer.replyTo(identity.instanceId) }));
    // Instance ids may hold slashes: the effect id is read from its end (step names hold none).
    const nested = { ...identity, id: effectId('shop/eu/o-9', 'chargePayment', 'compensation', 1), key: effectKey('shop/eu/o-9', 'chargePayment', 'compensation'), instanceId: 'shop/eu/o-9', attempt: 1 };
    const h2 = natsHeaders();
    h2.set(header.msgId, nested.id);
    expect(readCommandEnvelope(h2, consumer)).toEqual(E.right({ effect: nested, replyTo: consumer.replyTo(nested.instanceId) }));
  });

  it('compact: only the instance and the effect id; a worker reads the rest off its consumer', () => {
    const h = commandHeaders(refund, consumer.replyTo(refund.instanceId), 'compact');
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
    const none = 'missing header(s) Sagaflow-Instance, Sagaflow-Effect, and no Nats-Msg-Id of the form <instance>/<step>/<action|compensation>/<attempt>';
    expect(readCommandEnvelope(undefined, consumer)).toEqual(E.left(none));
    for (const msgId of ['start:o-1', 'o-1/chargePayment/refund/1', 'chargePayment/action/1', 'o-1/chargePayment/action/0']) expect(only([[header.msgId, msgId]])).toEqual(E.left(none));
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

describe('replies', () => {
  const effect = effectId('shop/eu/o-1', 'reserveInventory', 'action', 2);
  const outcome = { ok: true as const, reply: { reservationId: 'r-1' } };
  const withHeaders = (pairs: [string, string][]) => {
    const h = natsHeaders();
    for (const [name, value] of pairs) h.set(name, value);
    return h;
  };

  it('compact: the body is the outcome, the message id reply:<effect id> names the effect', () => {
    expect(new TextDecoder().decode(compactReplyBody(outcome))).toBe('{"ok":true,"reply":{"reservationId":"r-1"}}');
    expect(readReply(withHeaders([[header.msgId, replyMsgId(effect)]]), compactReplyBody(outcome))).toEqual(E.right({ instanceId: 'shop/eu/o-1', effectId: effect, outcome }));
    const failed = { ok: false as const, error: { code: 'Declined', message: 'no', retryable: false } };
    expect(readReply(withHeaders([[header.msgId, replyMsgId(effect)]]), compactReplyBody(failed))).toEqual(E.right({ instanceId: 'shop/eu/o-1', effectId: effect, outcome: failed }));
  });

  it('the envelope of earlier workers, with or without identity headers', () => {
    const reply = { instanceId: 'shop/eu/o-1', effectId: effect, outcome };
    expect(readReply(undefined, replyBody(reply))).toEqual(E.right(reply));
    expect(readReply(withHeaders([[header.instance, 'shop/eu/o-1'], [header.effect, effect]]), replyBody(reply))).toEqual(E.right(reply));
  });

  it('names what is wrong: not JSON, no effect named, an invalid outcome or envelope', () => {
    const named = withHeaders([[header.msgId, replyMsgId(effect)]]);
    expect(readReply(named, new Uint8Array([0x7b, 0xff]))).toMatchObject(E.left(expect.stringMatching(/^body is not UTF-8 JSON/u)));
    expect(readReply(undefined, compactReplyBody(outcome))).toEqual(E.left('reply names no effect: no envelope, no Sagaflow-Instance/Sagaflow-Effect headers, no Nats-Msg-Id reply:<effect id>'));
    expect(readReply(named, new TextEncoder().encode('{"ok":"yes"}'))).toMatchObject(E.left(expect.stringMatching(/^reply outcome is invalid: /u)));
    expect(readReply(named, new TextEncoder().encode('{"outcome":{"ok":true}}'))).toMatchObject(E.left(expect.stringMatching(/^reply envelope is invalid: /u)));
  });

  it('effectOfMessage: identity headers first, then the message id of a command or a reply', () => {
    expect(effectOfMessage(withHeaders([[header.instance, 'i'], [header.effect, 'i/s/action/1'], [header.msgId, 'x/s/action/1']]))).toEqual({ instanceId: 'i', effectId: 'i/s/action/1' });
    expect(effectOfMessage(withHeaders([[header.msgId, 'a/b/s/compensation/3']]))).toEqual({ instanceId: 'a/b', effectId: 'a/b/s/compensation/3' });
    expect(effectOfMessage(withHeaders([[header.msgId, 'reply:a/s/action/1']]))).toEqual({ instanceId: 'a', effectId: 'a/s/action/1' });
    for (const msgId of ['start:a', 'forward:S:3', 'dlq:S:1', 's/action/1', '']) expect(effectOfMessage(withHeaders([[header.msgId, msgId]]))).toBeNull();
    // One identity header without the other is not an identity.
    expect(effectOfMessage(withHeaders([[header.instance, 'i'], [header.msgId, 'i/s/action/1']]))).toBeNull();
    expect(effectOfMessage(undefined)).toBeNull();
  });
});
