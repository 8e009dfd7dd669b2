import { createLogger, isLogLevel, logLevels, type StructuredLog } from '@sagaflow/telemetry';
import { UsageError } from './cli-error.js';
import type { OptionValues } from './options.js';

/**
 * The logger of a long-running command (`run`): `--log-level` (default `info`), JSON lines when its
 * output is not a terminal, readable lines when it is. `base` fields go on every line.
 */
export function processLogger(values: OptionValues, name: string, base: Readonly<Record<string, unknown>> = {}): StructuredLog {
  const level = values['log-level'];
  if (level !== undefined && (typeof level !== 'string' || !isLogLevel(level))) {
    throw new UsageError(`--log-level takes ${logLevels.join(', ')}, not "${String(level)}"`);
  }
  return createLogger({ name, base, ...(level === undefined ? {} : { level }) });
}

/** The option help of the logger. */
export const logOptionsHelp = `  --log-level L     debug, info (default), warn, error or silent; one JSON object per line when
                    the output is not a terminal (fields: saga, instanceId, step, effectId, traceId
                    on lines about an instance), readable lines on a terminal`;
