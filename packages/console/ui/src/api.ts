/** The console's API, as the page calls it: JSON in and out, the CSRF token on every change. */

export interface ApiError {
  readonly status: number;
  readonly tag: string;
  readonly message: string;
}

export class ApiFailure extends Error implements ApiError {
  constructor(
    readonly status: number,
    readonly tag: string,
    message: string,
  ) {
    super(message);
  }
}

let csrfToken = '';

/** Remembers the CSRF token the session handed out. */
export const useCsrf = (token: string): void => {
  csrfToken = token;
};

async function call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: {
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(method === 'GET' ? {} : { 'x-csrf-token': csrfToken }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await response.json().catch(() => null)) as { error?: { tag?: string; message?: string } } | null;
  if (!response.ok) throw new ApiFailure(response.status, json?.error?.tag ?? 'Error', json?.error?.message ?? `${response.status} ${response.statusText}`);
  return json as T;
}

export const get = <T>(path: string): Promise<T> => call<T>('GET', path);
export const post = <T>(path: string, body: unknown): Promise<T> => call<T>('POST', path, body);
export const remove = <T>(path: string): Promise<T> => call<T>('DELETE', path);

/** An instance's listing row, as the API gives it (the command's `--json` row). */
export type { InstanceJson as InstanceRow } from '@sagaflow/inspect';

export interface Session {
  readonly operator: string | null;
  readonly tokenRequired: boolean;
  readonly readOnly: boolean;
  readonly csrfToken: string;
}
