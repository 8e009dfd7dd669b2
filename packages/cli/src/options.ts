import { parseArgs, type ParseArgsConfig } from 'node:util';
import { natsSettingsFromEnv, type NatsSettings } from '@sagaflow/nats';
import { UsageError } from './cli-error.js';
import { defaultStoreUrl } from './store-url.js';

/** Options every command takes. */
export interface GlobalOptions {
  readonly store: string;
  readonly nats: NatsSettings;
  readonly namespace: string;
  readonly sagas: string;
  readonly json: boolean;
  readonly verbose: boolean;
  readonly help: boolean;
}

type OptionSpec = NonNullable<ParseArgsConfig['options']>;

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
  --store URL       event store: sqlite:<path> or memory: (env SAGAFLOW_STORE; default ${defaultStoreUrl})
  --nats URL        NATS server(s) (env NATS_URL; default nats://127.0.0.1:4222); credentials and TLS
                    from NATS_CREDS, NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_CA/NATS_CERT/NATS_KEY
  --namespace NS    subject and stream namespace (env SAGAFLOW_NAMESPACE; default sagaflow)
  --sagas DIR       directory of *.saga.ts files (default sagas)
  --json            machine-readable output
  --verbose         stack traces on errors
  -h, --help        this help`;

/** Parses a command's arguments: its own options plus the global ones. */
export function parseCommand<S extends OptionSpec>(
  argv: readonly string[],
  spec: S,
  env: NodeJS.ProcessEnv = process.env,
): { global: GlobalOptions; values: Record<string, string | boolean | string[] | undefined>; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: { ...globalSpec, ...spec }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message.split('\n')[0] ?? error.message : String(error));
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  const text = (name: string): string | undefined => (typeof values[name] === 'string' ? values[name] : undefined);
  const natsUrl = text('nats') ?? env.NATS_URL;
  return {
    global: {
      store: text('store') ?? env.SAGAFLOW_STORE ?? defaultStoreUrl,
      nats: { ...natsSettingsFromEnv(env), ...(natsUrl === undefined ? {} : { url: natsUrl }) },
      namespace: text('namespace') ?? env.SAGAFLOW_NAMESPACE ?? 'sagaflow',
      sagas: text('sagas') ?? 'sagas',
      json: values.json === true,
      verbose: values.verbose === true,
      help: values.help === true,
    },
    values,
    positionals: parsed.positionals,
  };
}

/** A CLI command. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly help: string;
  /** Runs the command; resolves with the exit code. */
  run(argv: readonly string[]): Promise<number>;
}
