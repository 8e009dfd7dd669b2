import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, maskUrl, natsSettingsFromEnv, NoEngineError, type NatsSettings } from '@sagaflow/nats';
import { OperationError } from './cli-error.js';
import type { GlobalOptions } from './options.js';

/** Where NATS is, from `--nats` / `NATS_URL` and the credential and TLS variables. */
export function natsSettings(global: GlobalOptions): NatsSettings {
  return { ...natsSettingsFromEnv(global.env), ...(global.natsUrl === undefined ? {} : { url: global.natsUrl }) };
}

/** The NATS URL for messages, password masked. */
export const natsUrlForPeople = (global: GlobalOptions): string => maskUrl(global.natsUrl ?? 'nats://127.0.0.1:4222');

/**
 * Connects, runs `work`, then closes the connection. A server that does not answer gives
 * `NatsUnavailableError` (one line naming the URL).
 */
export async function withNats<T>(global: GlobalOptions, work: (connection: NatsConnection) => Promise<T>): Promise<T> {
  const connection = await connectNats({ ...natsSettings(global), name: 'sagaflow-cli' });
  try {
    return await work(connection);
  } finally {
    await connection.close();
  }
}

/** Runs a request to the running engine; no engine answering becomes one line naming the namespace and server. */
export async function askEngine<T>(global: GlobalOptions, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    if (error instanceof NoEngineError) {
      throw new OperationError(`No engine answered in namespace "${global.namespace}" at ${natsUrlForPeople(global)} (${error.reason}): start one with "sagaflow run"`);
    }
    throw error;
  }
}
