import { EventStoreUnavailableError, WrongExpectedRevisionError } from '@sagaflow/core';

/** A call of the store thread: the method and its arguments, with the id its answer carries. */
export interface StoreCall {
  readonly id: number;
  readonly method: 'append' | 'appendMany' | 'readStream' | 'readAll' | 'listInstances' | 'getInstance' | 'close';
  readonly args: readonly unknown[];
}

/** An error as it crosses the thread boundary (structured clone keeps no class). */
export interface ErrorData {
  readonly name: string;
  readonly message: string;
  readonly fields?: Readonly<Record<string, unknown>>;
}

/** The store thread's answer to a call: its result, or the error it threw. */
export type StoreAnswer = { readonly id: number; readonly ok: true; readonly value: unknown } | { readonly id: number; readonly ok: false; readonly error: ErrorData };

/** An error, or an `appendMany` result that is one, as data. */
export function errorData(error: unknown): ErrorData {
  if (error instanceof WrongExpectedRevisionError) {
    return { name: error.name, message: error.message, fields: { instanceId: error.instanceId, expectedRevision: error.expectedRevision, actualRevision: error.actualRevision } };
  }
  if (error instanceof EventStoreUnavailableError) return { name: error.name, message: error.message, fields: { url: error.url, reason: error.reason } };
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}

/** The error its data describes, as the same class where the callers test for it. */
export function errorOf(data: ErrorData): Error {
  const fields = data.fields ?? {};
  switch (data.name) {
    case 'WrongExpectedRevisionError':
      return new WrongExpectedRevisionError(String(fields.instanceId), Number(fields.expectedRevision), Number(fields.actualRevision));
    case 'EventStoreUnavailableError':
      return new EventStoreUnavailableError(String(fields.url), String(fields.reason));
    case 'RangeError':
      return new RangeError(data.message);
    case 'TypeError':
      return new TypeError(data.message);
    default: {
      const error = new Error(data.message);
      error.name = data.name;
      return error;
    }
  }
}
