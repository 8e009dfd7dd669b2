import { EventStoreUnavailableError } from '@sagaflow/core';

/**
 * The connection string with its password masked, fit for messages and logs:
 * `esdb://admin:changeit@host:2113?tls=false` becomes `esdb://admin:***@host:2113?tls=false`.
 */
export function maskConnectionString(connectionString: string): string {
  // The user info runs to the last "@" of the authority, so a password with an unescaped "@" is masked whole.
  return connectionString.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#]*)@/, (_, scheme: string, userInfo: string) => {
    const colon = userInfo.indexOf(':');
    return `${scheme}${colon < 0 ? userInfo : `${userInfo.slice(0, colon)}:***`}@`;
  });
}

/** What an error of the client or of gRPC says, in one line. */
export function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const type = (error as { type?: unknown }).type;
  let message = error.message
    .replace(/\s+/g, ' ')
    .replace(/\.? ?Resolution note: ?$/, '')
    .trim();
  if (/SSL routines|wrong version number|TLS/i.test(message)) {
    message += ' (a TLS mismatch? add tls=false to the connection string for an insecure server, or drop it for a secure one)';
  }
  return typeof type === 'string' && !message.toLowerCase().includes(type) ? `${type}: ${message || error.name}` : message || error.name;
}

/** The port's error for a failure talking to EventStoreDB at `url` (already masked), keeping the original as `cause`. */
export function unavailable(url: string, error: unknown, doing?: string): EventStoreUnavailableError {
  if (error instanceof EventStoreUnavailableError) return error;
  const result = new EventStoreUnavailableError(url, doing === undefined ? describe(error) : `${doing}: ${describe(error)}`);
  result.cause = error;
  return result;
}

/** Settles with `work`, or rejects with `onTimeout()` if it takes longer than `ms`. */
export function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
