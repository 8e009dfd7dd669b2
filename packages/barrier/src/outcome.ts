import type { ReplyOutcome } from '@sagaflow/core';
import { isStepFailure } from '@sagaflow/core';

/** What a barrier answers for an operation: the worker's reply outcome, as stored. */
export type Outcome = ReplyOutcome;

/** Error codes the barrier itself puts in outcomes. */
export const barrierCodes = {
  /** A forward operation refused because its compensation ran first (a hanging operation). */
  compensated: 'Compensated',
  /** Business code threw something other than a `StepFailure`; retryable. */
  unexpected: 'Unexpected',
  /** A start's rollback marker: a check-back found no commit marker. */
  rolledBack: 'RolledBack',
} as const;

/** Outcome of a compensation with nothing to undo (its forward operation never ran, or failed). */
export const nullCompensation: Outcome = { ok: true, reply: null };

/** Outcome stored under a forward key whose compensation arrived first; refuses the late operation. */
export const compensatedMarker = (forwardKey: string): Outcome => ({
  ok: false,
  error: { code: barrierCodes.compensated, message: `${forwardKey} was compensated before it ran`, retryable: false },
});

/** Outcome of business code that threw; `retryable` failures are rolled back and not stored. */
export function failureOf(error: unknown): Outcome & { readonly ok: false } {
  if (isStepFailure(error)) return { ok: false, error: { code: error.code, message: error.message, retryable: error.retryable === true } };
  const message = error instanceof Error ? error.message : String(error);
  return { ok: false, error: { code: barrierCodes.unexpected, message, retryable: true } };
}

/** Thrown inside a barrier transaction to roll all of it back and answer `outcome` instead. */
export class Rollback extends Error {
  constructor(readonly outcome: Outcome) {
    super('barrier transaction rolled back');
  }
}

/**
 * Serialises an outcome for its barrier row.
 * @throws TypeError when JSON cannot represent the reply (a BigInt, a cycle).
 */
export function encodeOutcome(key: string, outcome: Outcome): string {
  try {
    return JSON.stringify(outcome);
  } catch (error) {
    throw new TypeError(`The reply for ${key} cannot be stored as JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Reads a barrier row's outcome. @throws Error when the row does not hold an outcome. */
export function decodeOutcome(key: string, text: string): Outcome {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (isOutcome(value)) return value;
  throw new Error(`Corrupt barrier row for ${key}: ${text.slice(0, 200)}`);
}

function isOutcome(value: unknown): value is Outcome {
  if (typeof value !== 'object' || value === null) return false;
  const { ok, error } = value as { ok?: unknown; error?: unknown };
  if (ok === true) return true;
  if (ok !== false || typeof error !== 'object' || error === null) return false;
  const { code, message, retryable } = error as { code?: unknown; message?: unknown; retryable?: unknown };
  return typeof code === 'string' && typeof message === 'string' && (retryable === undefined || typeof retryable === 'boolean');
}
