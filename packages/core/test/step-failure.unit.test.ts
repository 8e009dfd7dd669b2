/** StepFailure: defaults, validation, and recognition across copies of the module. */
import { describe, expect, it } from 'vitest';
import { StepFailure, isStepFailure } from '../src/step-failure.js';

describe('StepFailure', () => {
  it('is final unless marked retryable', () => {
    expect(new StepFailure('PaymentDeclined', 'card declined').retryable).toBe(false);
    expect(new StepFailure('Unavailable', 'down', { retryable: true }).retryable).toBe(true);
  });

  it('needs a code', () => {
    expect(() => new StepFailure('', 'no code')).toThrow(TypeError);
  });

  it('is recognised by its brand (another copy of the module), and nothing else is', () => {
    const copy = Object.assign(new Error('no'), { _tag: 'StepFailure', code: 'Declined', retryable: false });
    expect(isStepFailure(new StepFailure('Declined', 'no'))).toBe(true);
    expect(isStepFailure(copy)).toBe(true);
    expect(isStepFailure(new Error('plain'))).toBe(false);
    expect(isStepFailure({ _tag: 'StepFailure', code: 'NotAnError', message: 'x' })).toBe(false);
  });
});
