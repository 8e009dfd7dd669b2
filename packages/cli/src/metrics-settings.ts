import { UsageError } from './cli-error.js';
import { portOption, type OptionValues } from './options.js';

/** Where a process serves its metrics, or `null` when it does not (no `--metrics-port`). */
export interface MetricsSettings {
  readonly port: number;
  readonly host: string;
}

/** Reads `--metrics-port` and `--metrics-host`; the host alone is refused, as it would serve nothing. */
export function metricsSettings(values: OptionValues): MetricsSettings | null {
  const port = values['metrics-port'];
  const host = values['metrics-host'];
  if (typeof port !== 'string') {
    if (typeof host === 'string') throw new UsageError('--metrics-host goes with --metrics-port');
    return null;
  }
  const parsed = portOption(port, '--metrics-port');
  if (host === '') throw new UsageError('--metrics-host takes an address, such as 0.0.0.0 to be scraped from other hosts');
  return { port: parsed, host: typeof host === 'string' ? host : '127.0.0.1' };
}

/** The option help of the metrics server. */
export const metricsOptionsHelp = `  --metrics-port N  serve Prometheus metrics on /metrics, with /healthz and /readyz, on this port
                    (0 for any free one; the address is logged); off unless given
  --metrics-host ADDRESS
                    address the metrics server binds (default 127.0.0.1; 0.0.0.0 to be scraped
                    from other hosts)`;
