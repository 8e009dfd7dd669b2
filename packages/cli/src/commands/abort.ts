import { interventionCommand } from '../intervention.js';

/** `sagaflow abort ID`: stop forward progress and compensate now. */
export const abortCommand = interventionCommand({
  action: 'abort',
  step: 'none',
  description: `Aborts a running instance: no further step is dispatched, and every step that completed
(or may have: the one in flight) is compensated, newest first. Refused unless the instance is
running (a stuck instance is repaired with retry or skip).`,
  examples: ['sagaflow abort order-42 --reason "customer cancelled by phone"', 'sagaflow abort order-42 --by alice --reason "duplicate order" --json'],
});
