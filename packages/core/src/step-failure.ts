/**
 * What step code throws to fail an operation on purpose: a business refusal (`retryable: false`,
 * the default, e.g. a declined payment) or a transient condition (`retryable: true`).
 * Anything else thrown by step code counts as a retryable failure.
 */
export class StepFailure extends Error {
  readonly _tag = 'StepFailure';
  readonly retryable: boolean;
  constructor(
    readonly code: string,
    message: string,
    options: { readonly retryable?: boolean; readonly cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StepFailure';
    this.retryable = options.retryable ?? false;
  }
}

/** Whether a thrown value is a {@link StepFailure} (also across copies of this module). */
export const isStepFailure = (value: unknown): value is StepFailure =>
  value instanceof StepFailure || (typeof value === 'object' && value !== null && (value as { _tag?: unknown })._tag === 'StepFailure');
