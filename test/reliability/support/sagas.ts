/**
 * The sagas of the reliability tests. `transfer` is a money transfer: the upstream (a bank
 * service) debits the payer in its local transaction and starts the saga, whose one step credits
 * the payee downstream. Its confirmation timeout is short, so check-backs come quickly.
 */
import * as t from 'io-ts';
import { createRegistry, saga } from '@sagaflow/core';

export const TransferInput = t.type({ transferId: t.string, from: t.string, to: t.string, amountCents: t.number });
export type TransferInput = t.TypeOf<typeof TransferInput>;

const transferSaga = saga('transfer', {
  version: 1,
  input: TransferInput,
  confirmation: { timeoutMs: 300, retry: { maxAttempts: 40, initialDelayMs: 200, multiplier: 1.5, maxDelayMs: 800 } },
});
export const credit = transferSaga.step({
  name: 'credit',
  command: t.type({ transferId: t.string, to: t.string, amountCents: t.number }),
  reply: t.type({ creditId: t.string }),
  toCommand: ({ input }) => ({ transferId: input.transferId, to: input.to, amountCents: input.amountCents }),
  timeoutMs: 10_000,
  retry: { maxAttempts: 5, initialDelayMs: 200, maxDelayMs: 1_000 },
});
export const transfer = transferSaga.define([credit]);

/** A saga with a deadline: `hold` succeeds at once, `approve` is never answered, so the deadline compensates `hold`. */
const deadlineSaga = saga('approval', { version: 1, input: t.type({ id: t.string }), deadlineMs: 2_500 });
export const hold = deadlineSaga.step({
  name: 'hold',
  command: t.type({ id: t.string }),
  reply: t.type({ held: t.boolean }),
  toCommand: ({ input }) => ({ id: input.id }),
  compensation: { name: 'release', command: t.type({ id: t.string }), toCommand: ({ input }) => ({ id: input.id }) },
  timeoutMs: 30_000,
});
export const approve = deadlineSaga.step({
  name: 'approve',
  command: t.type({ id: t.string }),
  reply: t.type({ approved: t.boolean }),
  toCommand: ({ input }) => ({ id: input.id }),
  timeoutMs: 60_000,
});
export const approval = deadlineSaga.define([hold, approve]);

/** A saga started at a later time (delayed start). */
const payoutSaga = saga('payout', { version: 1, input: t.type({ id: t.string }) });
export const pay = payoutSaga.step({
  name: 'pay',
  command: t.type({ id: t.string }),
  reply: t.type({ paid: t.boolean }),
  toCommand: ({ input }) => ({ id: input.id }),
  timeoutMs: 30_000,
});
export const payout = payoutSaga.define([pay]);

export const registry = createRegistry([transfer, approval, payout]);
