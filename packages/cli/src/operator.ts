import { userInfo } from 'node:os';

/** The operator name recorded when `--by` is not given: the OS user running the command. */
export function defaultOperator(env: NodeJS.ProcessEnv = process.env): string {
  try {
    const name = userInfo().username;
    if (name !== '') return name;
  } catch {
    // No passwd entry for the uid (common in containers): fall back to the environment.
  }
  return env.USER || env.LOGNAME || env.USERNAME || 'unknown';
}
