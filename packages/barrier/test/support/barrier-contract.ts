import { StepFailure as CoreStepFailure } from '@sagaflow/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { StepFailure, barrierCodes } from '../../src/index.js';
import { action, compensation, freshInstance, type BarrierHarness } from './barrier-harness.js';

/**
 * The barrier's semantics, run against each driver by its own `*.int.test.ts`.
 * `open` gives a harness over fresh tables for every test.
 */
export function describeBarrierContract(open: () => Promise<BarrierHarness>): void {
  let barrier: BarrierHarness;
  let instance: string;
  beforeEach(async () => {
    barrier = await open();
    instance = freshInstance();
  });

  describe('duplicates', () => {
    it('answers a duplicate with the stored outcome without running the business code again', async () => {
      const effect = action(instance);
      const first = await barrier.run(effect, { reply: { paymentId: 'pay-1' } });
      const second = await barrier.run(effect, { reply: { paymentId: 'pay-2' } });
      expect(first).toEqual({ ok: true, reply: { paymentId: 'pay-1' } });
      expect(second).toEqual(first);
      expect(barrier.calls(effect.key)).toBe(1);
      expect(await barrier.applied(effect.key)).toBe(1);
    });
  });

  describe('success and retryable failures', () => {
    it('commits the business change and the barrier row together', async () => {
      const effect = action(instance);
      const outcome = await barrier.run(effect, { reply: 'done' });
      expect(await barrier.applied(effect.key)).toBe(1);
      expect(await barrier.find(effect.key)).toEqual(outcome);
    });

    it('rolls everything back when the business code throws a plain error, so the next attempt runs it again', async () => {
      const effect = action(instance);
      const failed = await barrier.run(effect, { fail: new Error('carrier unavailable') });
      expect(failed).toEqual({ ok: false, error: { code: barrierCodes.unexpected, message: 'carrier unavailable', retryable: true } });
      expect(await barrier.applied(effect.key)).toBe(0);
      expect(await barrier.find(effect.key)).toBeUndefined();

      const retried = await barrier.run(effect, { reply: 'shipped' });
      expect(retried).toEqual({ ok: true, reply: 'shipped' });
      expect(barrier.calls(effect.key)).toBe(2);
      expect(await barrier.applied(effect.key)).toBe(1);
    });

    it('rolls everything back on a retryable StepFailure and keeps its code', async () => {
      const effect = action(instance);
      const failed = await barrier.run(effect, { fail: new StepFailure('Unavailable', 'carrier down', { retryable: true }) });
      expect(failed).toEqual({ ok: false, error: { code: 'Unavailable', message: 'carrier down', retryable: true } });
      expect(await barrier.applied(effect.key)).toBe(0);
      expect(await barrier.find(effect.key)).toBeUndefined();
    });
  });

  describe('non-retryable failures', () => {
    it('rolls back the business change but stores the failure, so a duplicate gets the same failure', async () => {
      const effect = action(instance);
      const failed = await barrier.run(effect, { fail: new StepFailure('PaymentDeclined', 'card declined') });
      expect(failed).toEqual({ ok: false, error: { code: 'PaymentDeclined', message: 'card declined', retryable: false } });
      expect(await barrier.applied(effect.key)).toBe(0);
      expect(await barrier.find(effect.key)).toEqual(failed);

      expect(await barrier.run(effect, { reply: 'would succeed now' })).toEqual(failed);
      expect(barrier.calls(effect.key)).toBe(1);
    });

    it('recognises the StepFailure of @sagaflow/core as well', async () => {
      const effect = action(instance);
      const failed = await barrier.run(effect, { fail: new CoreStepFailure('PaymentDeclined', 'card declined') });
      expect(failed).toEqual({ ok: false, error: { code: 'PaymentDeclined', message: 'card declined', retryable: false } });
      expect(await barrier.find(effect.key)).toEqual(failed);
      expect(await barrier.applied(effect.key)).toBe(0);
    });
  });

  describe('null compensation and hanging operations', () => {
    it('records a compensation whose forward operation never ran, without running business code', async () => {
      const undo = compensation(instance);
      expect(await barrier.run(undo, { reply: 'refunded' })).toEqual({ ok: true, reply: null });
      expect(barrier.calls(undo.key)).toBe(0);
      expect(await barrier.applied(undo.key)).toBe(0);
      expect(await barrier.run(undo, { reply: 'refunded' })).toEqual({ ok: true, reply: null });
      expect(barrier.calls(undo.key)).toBe(0);
    });

    it('refuses a forward operation that arrives after its compensation', async () => {
      const forward = action(instance);
      await barrier.run(compensation(instance), { reply: 'refunded' });
      const late = await barrier.run(forward, { reply: { paymentId: 'pay-late' } });
      expect(late).toMatchObject({ ok: false, error: { code: barrierCodes.compensated, retryable: false } });
      expect(barrier.calls(forward.key)).toBe(0);
      expect(await barrier.applied(forward.key)).toBe(0);
      expect(await barrier.run(forward, { reply: 'again' })).toEqual(late);
    });

    it('treats the compensation of a forward operation that failed non-retryably as a null compensation', async () => {
      const forward = action(instance);
      const undo = compensation(instance);
      const declined = await barrier.run(forward, { fail: new StepFailure('PaymentDeclined', 'card declined') });
      expect(await barrier.run(undo, { reply: 'refunded' })).toEqual({ ok: true, reply: null });
      expect(barrier.calls(undo.key)).toBe(0);
      expect(await barrier.find(forward.key)).toEqual(declined);
    });

    it('runs the compensation when the forward operation succeeded', async () => {
      const undo = compensation(instance);
      await barrier.run(action(instance), { reply: { paymentId: 'pay-1' } });
      expect(await barrier.run(undo, { reply: { refundId: 'ref-1' } })).toEqual({ ok: true, reply: { refundId: 'ref-1' } });
      expect(barrier.calls(undo.key)).toBe(1);
      expect(await barrier.applied(undo.key)).toBe(1);
    });

    it('treats a compensation as null when its forward operation only failed retryably (nothing was committed)', async () => {
      const undo = compensation(instance);
      await barrier.run(action(instance), { fail: new Error('timeout') });
      // Nothing committed for the forward key, so this is a null compensation and blocks the forward.
      expect(await barrier.run(undo, { reply: 'refunded' })).toEqual({ ok: true, reply: null });
      expect(await barrier.run(action(instance), { reply: 'late' })).toMatchObject({ ok: false, error: { code: barrierCodes.compensated } });
    });
  });

  describe('stored outcomes', () => {
    it('round-trips the reply exactly, key order included', async () => {
      const reply = {
        zeta: 1,
        alpha: [0.1, -2.5e-7, 9007199254740991, true, null, { nested: { deeper: ['x'] } }],
        text: 'quotes " \' \\ newline \n tab \t nul \u0000 unicode é 漢字 😀',
        empty: {},
        list: [],
      };
      const effect = action(instance);
      const first = await barrier.run(effect, { reply });
      const duplicate = await barrier.run(effect, { reply: 'other' });
      expect(first).toEqual({ ok: true, reply });
      expect(duplicate).toEqual(first);
      expect(JSON.stringify(duplicate)).toBe(JSON.stringify({ ok: true, reply }));
    });

    it('answers the first delivery exactly as a duplicate sees it, even for values JSON changes', async () => {
      const effect = action(instance);
      const first = await barrier.run(effect, { reply: { at: new Date(0), gone: undefined } });
      expect(first).toEqual({ ok: true, reply: { at: '1970-01-01T00:00:00.000Z' } });
      expect(await barrier.run(effect)).toEqual(first);
    });

    it('stores a success without a reply', async () => {
      const effect = action(instance);
      const first = await barrier.run(effect, {});
      expect(first).toEqual({ ok: true });
      expect(await barrier.run(effect)).toEqual(first);
    });

    it('refuses a reply JSON cannot hold, storing nothing and rolling back the business change', async () => {
      const effect = action(instance);
      await expect(barrier.run(effect, { reply: { amount: 10n } })).rejects.toThrow(TypeError);
      expect(await barrier.find(effect.key)).toBeUndefined();
      expect(await barrier.applied(effect.key)).toBe(0);
    });
  });

  describe('bad input', () => {
    it.each([
      ['an empty key', { key: '', kind: 'action' }],
      ['a blank key', { key: '   ', kind: 'action' }],
      ['an action key for a compensation', { key: 'order-1/pay/action', kind: 'compensation' }],
      ['a compensation key for an action', { key: 'order-1/pay/compensation', kind: 'action' }],
      ['a key with an attempt (an effect id)', { key: 'order-1/pay/action/1', kind: 'action' }],
      ['a key without a step', { key: 'order-1/action', kind: 'action' }],
      ['a key with an empty instance', { key: '/pay/action', kind: 'action' }],
      ['a key with an empty step', { key: 'order-1//action', kind: 'action' }],
      ['an unknown kind', { key: 'order-1/pay/undo', kind: 'undo' }],
      ['a non-string key', { key: 42, kind: 'action' }],
    ])('throws a TypeError for %s, before running anything', async (_label, effect) => {
      const bad = effect as never;
      await expect(barrier.run(bad, { reply: 'x' })).rejects.toThrow(TypeError);
      await expect(barrier.run(bad, { reply: 'x' })).rejects.toThrow(/barrier (key|effect)/i);
    });
  });
}
