import { interventionCommand } from '../intervention.js';

/** `sagaflow resume ID`: carry out again what an instance waits for. */
export const resumeCommand = interventionCommand({
  action: 'resume',
  step: 'none',
  description: `Resumes an instance that waits: the engine sends again the command it awaits a reply for
(same effect id, so a worker that already did it answers from its barrier) and re-arms its
timers. It changes no state. Refused when the instance waits for no command or timer.`,
  examples: ['sagaflow resume order-42 --reason "worker queue was purged by mistake"'],
});
