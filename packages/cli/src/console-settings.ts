import type { Operator } from '@sagaflow/console';
import { UsageError } from './cli-error.js';
import { portOption, type OptionValues } from './options.js';

/** How `sagaflow ui` (and `sagaflow run --ui`) serve the console. */
export interface ConsoleSettings {
  readonly host: string;
  readonly port: number;
  readonly token: string | undefined;
  readonly users: readonly Operator[] | undefined;
  readonly readOnly: boolean;
  /** Link template of a trace (`{traceId}`), from `--trace-url` or `SAGAFLOW_TRACE_URL`. */
  readonly traceUrl?: string;
}

/** Default port of the console. */
export const consolePort = 8233;

/**
 * Reads the console's options (`--host`, `--port`, `--token`, `--users`, `--read-only`; under `prefix` for
 * `run --ui`: `--ui-host`, …). The token may come from `SAGAFLOW_CONSOLE_TOKEN` instead, so it stays out
 * of the process list. The console's package is loaded only to read a users file, so an engine without
 * `--ui` does not carry its web server.
 */
export async function consoleSettings(values: OptionValues, env: NodeJS.ProcessEnv, prefix = ''): Promise<ConsoleSettings> {
  const text = (name: string): string | undefined => {
    const value = values[`${prefix}${name}`];
    return typeof value === 'string' ? value : undefined;
  };
  const portText = text('port');
  const port = portText === undefined ? consolePort : portOption(portText, `--${prefix}port`);
  const token = text('token') ?? (env.SAGAFLOW_CONSOLE_TOKEN || undefined);
  const usersFile = text('users');
  if (token !== undefined && usersFile !== undefined) throw new UsageError(`Give --${prefix}token or --${prefix}users, not both`);
  let users: Operator[] | undefined;
  if (usersFile !== undefined) {
    const { ConsoleConfigError, readUsersFile } = await import('@sagaflow/console');
    try {
      users = readUsersFile(usersFile);
    } catch (error) {
      if (error instanceof ConsoleConfigError) throw new UsageError(error.message);
      throw error;
    }
  }
  const traceUrl = text('trace-url') ?? (env.SAGAFLOW_TRACE_URL || undefined);
  return { host: text('host') ?? '127.0.0.1', port, token, users, readOnly: values[`${prefix}read-only`] === true, ...(traceUrl === undefined ? {} : { traceUrl }) };
}

/** The option help of the console, for `ui` (and, prefixed, `run --ui`). */
export const consoleOptionsHelp = (prefix = ''): string => `  --${prefix}host ADDRESS   address to bind (default 127.0.0.1); any other needs a token
  --${prefix}port N         port (default ${consolePort}; 0 for any free one)
  --${prefix}token TOKEN    token operators sign in with (env SAGAFLOW_CONSOLE_TOKEN); each gives a name
  --${prefix}users FILE     operators with a token each: a JSON array of { "name", "token" }
  --${prefix}read-only      show everything, change nothing
  --${prefix}trace-url URL  link an instance's trace id to the tracing tool, {traceId} where the id goes
                    (env SAGAFLOW_TRACE_URL; Jaeger: http://jaeger:16686/trace/{traceId})`;
