import type { InstanceSummary, SagaStatus } from '@sagaflow/core';

/** An instance's listing row in `--json` output (`list`, `show`, interventions). */
export interface InstanceJson {
  readonly instanceId: string;
  readonly saga: string;
  readonly version: number;
  readonly status: SagaStatus;
  /** The step or compensation being worked on (or last worked on), if any. */
  readonly currentStep: string | null;
  /** Attempts of the current step (or compensation) so far. */
  readonly attempts: number;
  /** Revision of the instance's last event (0-based). */
  readonly revision: number;
  /** The machine state value. */
  readonly state: unknown;
  /** ISO 8601 UTC. */
  readonly startedAt: string;
  /** ISO 8601 UTC: the last change. */
  readonly updatedAt: string;
}

export const instanceJson = (summary: InstanceSummary): InstanceJson => ({
  instanceId: summary.instanceId,
  saga: summary.saga,
  version: summary.version,
  status: summary.status,
  currentStep: summary.currentStep,
  attempts: summary.attempts,
  revision: summary.revision,
  state: parseStored(summary.state),
  startedAt: isoTime(summary.startedAt),
  updatedAt: isoTime(summary.updatedAt),
});

/** An instant as ISO 8601 UTC with milliseconds, for JSON. */
export const isoTime = (epochMs: number): string => new Date(epochMs).toISOString();

/** Parses JSON text kept by the store, giving the text itself back if it is not JSON. */
export function parseStored(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
