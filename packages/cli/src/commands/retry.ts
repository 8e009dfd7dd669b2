import { interventionCommand } from '../intervention.js';

/** `sagaflow retry ID`: a stuck step or compensation gets a fresh retry budget. */
export const retryCommand = interventionCommand({
  action: 'retry',
  step: 'optional',
  description: `Retries a stuck instance: the step or compensation it is stuck on gets a fresh retry budget
(as many attempts again as its policy allows) and is dispatched at once. Fix the cause first
(the service, its data, its configuration). Refused unless the instance is stuck.`,
  examples: [
    'sagaflow retry order-42 --reason "payment service fixed (INC-1234)"',
    'sagaflow retry order-42 --step reserveInventory --by alice --reason "stock table unlocked"',
  ],
});
