/**
 * The upstream's side of a two-phase start (docs/reliability.md), whatever its database:
 * 1. prepare (the pre-send): if it fails or is not answered, stop — if it was stored after all, the
 *    check-back finds no commit marker and cancels it;
 * 2. the local transaction, its commit marker inside (`barrier.markCommitted`);
 * 3. confirm after a commit, cancel after a rollback — if that is lost, the check-back settles it.
 * Used by the money-transfer example's bank and by the reliability tests' bank.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import { requestCancel, requestConfirm, requestPrepare, type Naming } from '@sagaflow/nats';

/** Points between the phases, where a test (or a process's `--crash-at`) may step in. */
export type StartPoint = 'prepared' | 'committed' | 'rolledBack';

/** What the local transaction did: committed (with its commit marker), or rolled back, and why. */
export type LocalOutcome = { readonly committed: true } | { readonly committed: false; readonly reason: string };

/** What became of a start, as the upstream saw it. */
export type StartResult =
  | { readonly outcome: 'notStarted'; readonly error: string }
  | { readonly outcome: 'confirmed' | 'cancelled' }
  /** The confirm or cancel was not acknowledged: the check-back settles the instance. */
  | { readonly outcome: 'unsent'; readonly after: 'committed' | 'rolledBack'; readonly error: string }
  /** The local transaction cannot tell whether it committed (its COMMIT failed): nothing is sent, the check-back settles it from the markers. */
  | { readonly outcome: 'unknown'; readonly error: string };

/** The instance to start, and who the confirm or cancel names. */
export interface TwoPhaseStart {
  readonly saga: string;
  readonly instanceId: string;
  readonly input: unknown;
  readonly by: string;
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Runs a two-phase start around `transaction`, which runs the local transaction with the commit
 * marker in it and reports whether it committed; it throws only when it cannot tell (a failed COMMIT).
 */
export async function runTwoPhaseStart(
  nats: { readonly js: JetStreamClient; readonly names: Naming },
  start: TwoPhaseStart,
  transaction: () => Promise<LocalOutcome> | LocalOutcome,
  options: { readonly at?: (point: StartPoint) => Promise<void> | void; readonly publishTimeoutMs?: number } = {},
): Promise<StartResult> {
  const at = options.at ?? (() => undefined);
  const publish = options.publishTimeoutMs === undefined ? {} : { timeoutMs: options.publishTimeoutMs };
  const { saga, instanceId, input, by } = start;
  try {
    await requestPrepare(nats.js, nats.names, { saga, instanceId, input }, publish);
  } catch (error) {
    return { outcome: 'notStarted', error: message(error) };
  }
  await at('prepared');
  let local: LocalOutcome;
  try {
    local = await transaction();
  } catch (error) {
    return { outcome: 'unknown', error: message(error) };
  }
  await at(local.committed ? 'committed' : 'rolledBack');
  try {
    if (local.committed) await requestConfirm(nats.js, nats.names, { saga, instanceId, by }, publish);
    else await requestCancel(nats.js, nats.names, { saga, instanceId, by, reason: local.reason }, publish);
  } catch (error) {
    return { outcome: 'unsent', after: local.committed ? 'committed' : 'rolledBack', error: message(error) };
  }
  return { outcome: local.committed ? 'confirmed' : 'cancelled' };
}
