/**
 * Retry budget and backoff of a step or compensation. Delays are deterministic: the jitter is
 * derived from a hash of the instance, step and attempt, so a replay decides the same due time.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included. 1 means no retry. */
  readonly maxAttempts: number;
  /** Delay before the second attempt, in milliseconds. */
  readonly initialDelayMs: number;
  /** Growth factor of the delay from one attempt to the next. */
  readonly multiplier: number;
  /** Upper bound of any delay, before jitter. */
  readonly maxDelayMs: number;
  /** Fraction of the delay to spread randomly either way (0 to 1). */
  readonly jitter: number;
}

/** The retry policy of a step when its definition gives none. */
export const defaultStepRetry: RetryPolicy = {
  maxAttempts: 3,
  initialDelayMs: 200,
  multiplier: 2,
  maxDelayMs: 30_000,
  jitter: 0.2,
};

/** Compensations must eventually succeed: a longer budget by default, then `stuck`. */
export const defaultCompensationRetry: RetryPolicy = {
  maxAttempts: 5,
  initialDelayMs: 500,
  multiplier: 2,
  maxDelayMs: 60_000,
  jitter: 0.2,
};

/** Check-backs of a pending instance: asked again with backoff; past the budget the instance is stuck. */
export const defaultCheckBackRetry: RetryPolicy = {
  maxAttempts: 8,
  initialDelayMs: 1_000,
  multiplier: 2,
  maxDelayMs: 60_000,
  jitter: 0.2,
};

/** Merges a partial policy over a default and checks its ranges. */
export function retryPolicy(base: RetryPolicy, override: Partial<RetryPolicy> | undefined, where: string): RetryPolicy {
  const policy = { ...base, ...override };
  const problems: string[] = [];
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) problems.push('maxAttempts must be an integer >= 1');
  if (!(policy.initialDelayMs >= 0)) problems.push('initialDelayMs must be >= 0');
  if (!(policy.multiplier >= 1)) problems.push('multiplier must be >= 1');
  if (!(policy.maxDelayMs >= policy.initialDelayMs)) problems.push('maxDelayMs must be >= initialDelayMs');
  if (!(policy.jitter >= 0 && policy.jitter <= 1)) problems.push('jitter must be between 0 and 1');
  if (problems.length > 0) throw new Error(`Invalid retry policy for ${where}: ${problems.join('; ')}`);
  return policy;
}

/**
 * Delay before attempt `attempt + 1`, after `attempt` attempts have failed.
 * `seed` identifies the decision (instance, step, attempt) and fixes the jitter.
 */
export function backoffDelay(policy: RetryPolicy, attempt: number, seed: string): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** Math.max(0, attempt - 1));
  const unit = hashToUnit(seed); // [0, 1)
  const factor = 1 - policy.jitter + 2 * policy.jitter * unit;
  return Math.max(0, Math.round(base * factor));
}

/** FNV-1a over the string, mapped to [0, 1). Deterministic across processes and platforms. */
function hashToUnit(seed: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    hash ^= seed.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash / 0x100000000;
}
