import { barrierCodes, type Outcome } from './outcome.js';

/**
 * Start markers make a two-phase start exact. The upstream writes a *commit marker* inside the
 * local transaction that prepared a saga; a check-back, in a transaction of its own, answers
 * `committed` if that marker is there and otherwise writes a *rollback marker* and answers
 * `rolledBack`. Both markers are the same barrier row (primary key `<instance>/start`), so a
 * transaction still in progress either commits first (the check-back waits for it and sees its
 * marker) or fails on the rollback marker: never both.
 */

/** The upstream's local transaction, as a check-back reports it. */
export type CheckBackOutcome = 'committed' | 'rolledBack';

/** The barrier key of an instance's start markers. Never an effect key (those end in `/action` or `/compensation`). */
export const startMarkerKey = (instanceId: string): string => `${instanceId}/start`;

/** What the commit marker stores. */
export const committedMarker: Outcome = { ok: true, reply: { start: 'committed' } };

/** What the rollback marker stores. */
export const rolledBackMarker = (instanceId: string): Outcome => ({
  ok: false,
  error: { code: barrierCodes.rolledBack, message: `the start of ${instanceId} was rolled back: no commit marker when its check-back came`, retryable: false },
});

/** The outcome a stored marker stands for. */
export const markerOutcome = (stored: Outcome): CheckBackOutcome => (stored.ok ? 'committed' : 'rolledBack');

/** A commit marker refused: a check-back already answered `rolledBack`, so the transaction must not commit (the saga was cancelled). */
export class StartRolledBackError extends Error {
  readonly _tag = 'StartRolledBack';
  constructor(readonly instanceId: string) {
    super(`Cannot commit the start of ${instanceId}: a check-back already found no commit and cancelled it; roll this transaction back`);
    this.name = 'StartRolledBackError';
  }
}

/** @throws TypeError for an instance id that is not a non-empty string. */
export function checkInstanceId(instanceId: string): void {
  if (typeof instanceId !== 'string' || instanceId.trim() === '') throw new TypeError('Start marker: the instance id must be a non-empty string');
}
