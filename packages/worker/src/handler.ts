import type { DispatchEffect } from '@sagaflow/core';

/** Which effect a command carries out: one attempt (`id`) of one operation of one instance (`key`). */
export type EffectIdentity = Pick<DispatchEffect, 'id' | 'key' | 'kind' | 'instanceId' | 'saga' | 'step' | 'operation' | 'attempt'>;

/** What a handler gets besides its command. */
export interface WorkerContext {
  /**
   * The effect being carried out. `effect.key` is the same for every attempt and every redelivery
   * of the operation: key the idempotency barrier of the local transaction on it.
   */
  readonly effect: EffectIdentity;
  /** Extends the acknowledgement deadline now (the worker also does this on a timer while the handler runs). */
  working(): void;
  /** Aborted when the worker stops: wrap up, or throw to hand the command back for redelivery. */
  readonly signal: AbortSignal;
}

/**
 * Carries out a step's command and returns its reply. Throw a `StepFailure` (from `@sagaflow/core`)
 * to fail on purpose; anything else thrown counts as a retryable `WorkerError`.
 */
export type StepHandler<C, R> = (command: C, context: WorkerContext) => R | PromiseLike<R>;

/** Carries out a compensation's command (undoes a step). Failures are as for {@link StepHandler}. */
export type CompensationHandler<CC> = (command: CC, context: WorkerContext) => void | PromiseLike<void>;

/** What a worker's log line is about: the command's saga, instance, step, effect and trace, when it is about one. */
export type LogFields = Readonly<Record<string, string | number | undefined>>;

/** Where a worker reports what goes wrong; a structured logger takes the fields as they are (`createLogger`'s `warn`). */
export type WorkerLog = (message: string, fields?: LogFields) => void;
