import { saga, t } from 'sagaflow';

/**
 * Move money from an account at the source bank to an account at the destination bank. The saga
 * is started in two phases by the source bank's own transaction, which takes the money off the
 * payer's account (examples/money-transfer/bank-api.ts): it runs iff that transaction commits.
 * Then the source bank books the debit against the transfer, the destination bank credits the
 * payee, and the source bank settles the transfer. A credit refused (a closed account) puts the
 * money back on the payer's account.
 */
const TransferInput = t.type({
  transferId: t.string,
  /** The payer's account at the source bank. */
  from: t.string,
  /** The payee's account at the destination bank. */
  to: t.string,
  amountCents: t.number,
});

const transfer = saga('money-transfer', {
  version: 1,
  input: TransferInput,
  /** A transfer not settled within a minute of its start is undone (credit reversed, debit refunded). */
  deadlineMs: 60_000,
  /**
   * Short, for the example: a prepared transfer not confirmed within 2 s makes the engine ask the
   * source bank whether its transaction committed (the check-back), again with backoff if unanswered.
   */
  confirmation: { timeoutMs: 2_000, retry: { maxAttempts: 10, initialDelayMs: 250, multiplier: 2, maxDelayMs: 2_000 } },
});

const Movement = t.type({ transferId: t.string, account: t.string, amountCents: t.number });

/**
 * The source bank books the debit its transaction took against the transfer. Compensation: the
 * money goes back on the payer's account. `debitId` is null when the booking timed out; the refund
 * is owed anyway, since the money left the account before the saga started.
 */
export const recordDebit = transfer.step({
  name: 'recordDebit',
  command: Movement,
  reply: t.type({ debitId: t.string }),
  toCommand: ({ input }) => ({ transferId: input.transferId, account: input.from, amountCents: input.amountCents }),
  compensation: {
    name: 'refundDebit',
    command: t.type({ ...Movement.props, debitId: t.union([t.string, t.null]) }),
    toCommand: ({ input }, reply) => ({ transferId: input.transferId, account: input.from, amountCents: input.amountCents, debitId: reply?.debitId ?? null }),
    retry: { maxAttempts: 5, initialDelayMs: 100 },
    timeoutMs: 5_000,
  },
  nonRetryable: ['NoDebit'],
  retry: { maxAttempts: 3, initialDelayMs: 100 },
  timeoutMs: 5_000,
});

/** The destination bank credits the payee; a closed or unknown account refuses (non-retryable). Compensation: the credit is reversed. */
export const creditDestination = transfer.step({
  name: 'creditDestination',
  command: Movement,
  reply: t.type({ creditId: t.string }),
  toCommand: ({ input }) => ({ transferId: input.transferId, account: input.to, amountCents: input.amountCents }),
  compensation: {
    name: 'reverseCredit',
    command: t.type({ ...Movement.props, creditId: t.union([t.string, t.null]) }),
    toCommand: ({ input }, reply) => ({ transferId: input.transferId, account: input.to, amountCents: input.amountCents, creditId: reply?.creditId ?? null }),
    retry: { maxAttempts: 5, initialDelayMs: 100 },
    timeoutMs: 5_000,
  },
  nonRetryable: ['AccountClosed', 'UnknownAccount'],
  retry: { maxAttempts: 3, initialDelayMs: 100 },
  timeoutMs: 5_000,
});

/** The source bank marks the transfer settled: the last step, nothing after it can fail, so no compensation. */
export const settleTransfer = transfer.step({
  name: 'settleTransfer',
  command: t.type({ transferId: t.string, debitId: t.string, creditId: t.string }),
  reply: t.type({ settlementId: t.string }),
  toCommand: ({ input, replyOf }) => ({ transferId: input.transferId, debitId: replyOf(recordDebit).debitId, creditId: replyOf(creditDestination).creditId }),
  retry: { maxAttempts: 5, initialDelayMs: 100 },
  timeoutMs: 5_000,
});

export type TransferInput = t.TypeOf<typeof TransferInput>;
export default transfer.define([recordDebit, creditDestination, settleTransfer]);
