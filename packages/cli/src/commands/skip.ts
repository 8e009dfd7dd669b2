import { interventionCommand } from '../intervention.js';

/** `sagaflow skip ID --step STEP`: a stuck compensation was done by hand. */
export const skipCommand = interventionCommand({
  action: 'skip',
  step: 'required',
  description: `Marks the stuck compensation of STEP as resolved by hand (you undid the step yourself) and
carries on with the next compensation, or finishes the instance as compensated. Refused unless
the instance is stuck on the compensation of that step.`,
  examples: ['sagaflow skip order-42 --step chargePayment --reason "refunded by hand in the PSP console (INC-1234)"'],
});
