import { pino, multistream, type Logger, type Level } from 'pino';
import pretty from 'pino-pretty';

/** The levels `--log-level` takes, most verbose first. */
export const logLevels = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

/** Whether `value` names a log level. */
export const isLogLevel = (value: string): value is LogLevel => (logLevels as readonly string[]).includes(value);

/** What a line about an instance carries, so a log search by any of them finds it. */
export interface LogFields {
  readonly saga?: string;
  readonly instanceId?: string;
  readonly step?: string;
  readonly effectId?: string;
  readonly traceId?: string;
  readonly [field: string]: unknown;
}

/** A structured logger: a message and the fields it is about. */
export interface StructuredLog {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** How a process logs. */
export interface LoggerOptions {
  /** The process's name, on every line (`name`). */
  readonly name: string;
  /** Default `info`. */
  readonly level?: LogLevel;
  /** Human-readable lines instead of JSON; default: when standard output is a terminal. */
  readonly pretty?: boolean;
  /** Fields on every line (an engine's id, a worker's service). */
  readonly base?: Readonly<Record<string, unknown>>;
}

/**
 * A pino logger writing info and debug lines to standard output and warnings and errors to standard
 * error: one JSON object per line when not on a terminal (for a log shipper), pretty on a terminal.
 */
export function createLogger(options: LoggerOptions): StructuredLog & { readonly pino: Logger } {
  const level = options.level ?? 'info';
  const human = options.pretty ?? process.stdout.isTTY === true;
  // On a terminal, the fields every line shares (the process, the engine's id) would repeat under each line.
  const ignore = ['pid', 'hostname', ...Object.keys(options.base ?? {})].join(',');
  const out = human ? pretty({ destination: 1, sync: true, ignore, translateTime: 'SYS:HH:MM:ss.l' }) : pino.destination({ fd: 1, sync: true });
  const err = human ? pretty({ destination: 2, sync: true, ignore, translateTime: 'SYS:HH:MM:ss.l' }) : pino.destination({ fd: 2, sync: true });
  const streams = multistream(
    [
      { level: 'debug', stream: out },
      { level: 'warn', stream: err },
    ],
    { dedupe: true },
  );
  const logger = pino({ name: options.name, level, base: { pid: process.pid, ...options.base }, timestamp: pino.stdTimeFunctions.isoTime }, streams);
  const at =
    (level: Level) =>
    (message: string, fields?: LogFields): void => {
      if (fields === undefined) logger[level](message);
      else logger[level](fields, message);
    };
  return { pino: logger, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
