import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './cli-error.js';
import { defaultStoreUrl } from './store-url.js';

/** Options every command takes. */
export interface GlobalOptions {
  readonly store: string;
  /** `--nats`, else `NATS_URL`; the rest of the NATS settings come from the environment (see nats-client.ts). */
  readonly natsUrl: string | undefined;
  readonly namespace: string;
  readonly sagas: string;
  readonly json: boolean;
  readonly verbose: boolean;
  readonly help: boolean;
  readonly env: NodeJS.ProcessEnv;
}

type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Values of a command's own options, as parsed. */
export type OptionValues = Record<string, string | boolean | string[] | undefined>;

const globalSpec = {
  store: { type: 'string' },
  nats: { type: 'string' },
  namespace: { type: 'string' },
  sagas: { type: 'string' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpec;

/** Help text of the global options, for every command's `--help`. */
export const globalHelp = `Global options:
  --store URL       event store: sqlite:<path>[?thread=true], esdb://host:2113?tls=false[&listing=<path>] or memory:
                    (env SAGAFLOW_STORE; default ${defaultStoreUrl})
  --nats URL        NATS server(s) (env NATS_URL; default nats://127.0.0.1:4222); credentials and TLS
                    from NATS_CREDS, NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_CA/NATS_CERT/NATS_KEY
  --namespace NS    subject and stream namespace (env SAGAFLOW_NAMESPACE; default sagaflow)
  --sagas DIR       directory of *.saga.ts files (default sagas)
  --json            machine-readable output (docs/cli.md describes each command's shape)
  --verbose         stack traces on errors
  -h, --help        this help

Exit codes: 0 ok, 1 refused or failed, 2 usage error.`;

/** Parses a command's arguments: its own options plus the global ones. */
export function parseCommand<S extends OptionSpec>(
  argv: readonly string[],
  spec: S,
  env: NodeJS.ProcessEnv = process.env,
): { global: GlobalOptions; values: OptionValues; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: { ...globalSpec, ...spec }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error));
  }
  const values = parsed.values as OptionValues;
  const text = (name: string): string | undefined => (typeof values[name] === 'string' ? values[name] : undefined);
  const namespace = text('namespace') ?? (env.SAGAFLOW_NAMESPACE || 'sagaflow');
  if (!/^[A-Za-z0-9_-]+$/.test(namespace)) throw new UsageError(`Invalid namespace "${namespace}": use letters, digits, "_" and "-"`);
  return {
    global: {
      store: text('store') ?? (env.SAGAFLOW_STORE || defaultStoreUrl),
      natsUrl: text('nats') ?? (env.NATS_URL || undefined),
      namespace,
      sagas: text('sagas') ?? 'sagas',
      json: values.json === true,
      verbose: values.verbose === true,
      help: values.help === true,
      env,
    },
    values,
    positionals: parsed.positionals,
  };
}

/** A string option's value, if given. */
export const stringOption = (values: OptionValues, name: string): string | undefined => (typeof values[name] === 'string' ? values[name] : undefined);

/** The values of a repeatable string option, each also split on commas. */
export const listOption = (values: OptionValues, name: string): string[] => {
  const raw = values[name];
  const all = Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : [];
  return all.flatMap((value) => value.split(',')).map((value) => value.trim()).filter((value) => value !== '');
};

/** A positive integer option (`--limit`, `--window`, …) within `max`, or its default. */
export function integerOption(values: OptionValues, name: string, fallback: number, max = 1_000_000): number {
  const raw = stringOption(values, name);
  if (raw === undefined) return fallback;
  const value = /^\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < 1 || value > max) throw new UsageError(`--${name} must be an integer from 1 to ${max}, not "${raw}"`);
  return value;
}

/** A TCP port given as `option` (0 for any free one); a usage error naming the option otherwise. */
export function portOption(text: string, option: string): number {
  const port = /^\d{1,5}$/u.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 0 && port <= 65_535)) throw new UsageError(`${option} takes a port number from 0 to 65535, not "${text}"`);
  return port;
}

/** The single positional argument a command takes (`ID`, `SEQ`, …). */
export function onePositional(positionals: readonly string[], what: string, usage: string): string {
  const [first, ...extra] = positionals;
  if (first === undefined || first === '') throw new UsageError(`Missing ${what}: ${usage}`);
  if (extra.length > 0) throw new UsageError(`Unexpected argument(s): ${extra.join(' ')}`);
  return first;
}

/** Refuses positional arguments for commands that take none. */
export function noPositionals(positionals: readonly string[]): void {
  if (positionals.length > 0) throw new UsageError(`Unexpected argument(s): ${positionals.join(' ')}`);
}

/** A CLI command. Its summary (one line, for `sagaflow --help`) lives in main.ts, which loads commands lazily. */
export interface Command {
  readonly name: string;
  readonly help: string;
  /** Runs the command; resolves with the exit code. */
  run(argv: readonly string[]): Promise<number>;
}

/** Prints a command's help when `--help` was given; true if it did. */
export function printedHelp(global: GlobalOptions, command: Command): boolean {
  if (global.help) process.stdout.write(`${command.help}\n`);
  return global.help;
}
