import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';

/** How to reach NATS. Everything but the URL is optional. */
export interface NatsSettings {
  /** Server URL(s), comma-separated (default `nats://127.0.0.1:4222`). */
  readonly url?: string;
  /** A `.creds` file (JWT + NKey seed). */
  readonly credsFile?: string;
  readonly user?: string;
  readonly password?: string;
  readonly token?: string;
  /** TLS: CA bundle, client certificate and key (PEM files). Any of them turns TLS on. */
  readonly tls?: { readonly caFile?: string; readonly certFile?: string; readonly keyFile?: string };
  /** Connection name shown by the server. */
  readonly name?: string;
  /**
   * Record where each request started, for error stack traces (default false: building those
   * traces on every publish cost about a tenth of the engine's and the worker's CPU; see docs/benchmarks.md).
   */
  readonly asyncTraces?: boolean;
}

/** Reads settings from `NATS_URL`, `NATS_CREDS`, `NATS_USER`, `NATS_PASSWORD`, `NATS_TOKEN`, `NATS_CA`, `NATS_CERT`, `NATS_KEY`. */
export function natsSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): NatsSettings {
  const tls = { caFile: env.NATS_CA, certFile: env.NATS_CERT, keyFile: env.NATS_KEY };
  return {
    ...(env.NATS_URL ? { url: env.NATS_URL } : {}),
    ...(env.NATS_CREDS ? { credsFile: env.NATS_CREDS } : {}),
    ...(env.NATS_USER ? { user: env.NATS_USER } : {}),
    ...(env.NATS_PASSWORD ? { password: env.NATS_PASSWORD } : {}),
    ...(env.NATS_TOKEN ? { token: env.NATS_TOKEN } : {}),
    ...(tls.caFile || tls.certFile || tls.keyFile ? { tls: Object.fromEntries(Object.entries(tls).filter(([, v]) => v)) } : {}),
  };
}

/** The URL with any password masked, for messages. */
export const maskUrl = (url: string): string => url.replace(/\/\/([^:@/]+):[^@/]+@/g, '//$1:***@');

/** A connection failure with the URL (masked) and what to do about it. */
export class NatsUnavailableError extends Error {
  readonly _tag = 'NatsUnavailable';
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`Cannot connect to NATS at ${maskUrl(url)}: ${reason}. Start a server with JetStream (nats-server -js) or set NATS_URL.`);
    this.name = 'NatsUnavailableError';
  }
}

/** Connects with the settings; reconnects forever once connected. */
export async function connectNats(settings: NatsSettings = {}): Promise<NatsConnection> {
  const url = settings.url ?? 'nats://127.0.0.1:4222';
  const options: NodeConnectionOptions = {
    servers: url.split(',').map((server) => server.trim()),
    name: settings.name ?? 'sagaflow',
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    noAsyncTraces: settings.asyncTraces !== true,
    ...(settings.user === undefined ? {} : { user: settings.user, pass: settings.password ?? '' }),
    ...(settings.token === undefined ? {} : { token: settings.token }),
  };
  try {
    if (settings.credsFile !== undefined) options.authenticator = credsAuthenticator(readFileSync(settings.credsFile));
    if (settings.tls !== undefined) {
      options.tls = {
        ...(settings.tls.caFile === undefined ? {} : { caFile: settings.tls.caFile }),
        ...(settings.tls.certFile === undefined ? {} : { certFile: settings.tls.certFile }),
        ...(settings.tls.keyFile === undefined ? {} : { keyFile: settings.tls.keyFile }),
      };
    }
    return await connect(options);
  } catch (error) {
    throw new NatsUnavailableError(url, error instanceof Error ? error.message : String(error));
  }
}
