/** Options of a {@link StepFailure}. */
export interface StepFailureOptions {
  /** Whether a later attempt may succeed. Default `false`: the failure is final and is stored. */
  readonly retryable?: boolean;
  /** The underlying error, kept for logs; it is not stored. */
  readonly cause?: unknown;
}

/**
 * What business code throws to fail an operation with a code the saga understands.
 *
 * Non-retryable (the default): the business changes are rolled back, the failure is stored in the
 * barrier and a duplicate gets the same failure. Retryable: the whole transaction rolls back and
 * nothing is stored, so the next attempt runs the business code again.
 */
export class StepFailure extends Error {
  /** Brand, so a copy of this module (another installed version) is recognised too. */
  readonly _tag = 'StepFailure';
  /** Machine-readable code, e.g. `PaymentDeclined`. */
  readonly code: string;
  /** Whether a later attempt may succeed. */
  readonly retryable: boolean;

  constructor(code: string, message: string, options: StepFailureOptions = {}) {
    if (typeof code !== 'string' || code.trim() === '') throw new TypeError('StepFailure needs a non-empty code');
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StepFailure';
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/**
 * Whether a thrown value is a step failure: this class, or any error branded `_tag: 'StepFailure'`
 * with a string `code` (such as one from another copy of this module).
 */
export function isStepFailure(value: unknown): value is Pick<StepFailure, 'code' | 'message' | 'retryable'> {
  if (value instanceof StepFailure) return true;
  if (!(value instanceof Error)) return false;
  const { _tag, code } = value as { _tag?: unknown; code?: unknown };
  return _tag === 'StepFailure' && typeof code === 'string';
}
