import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { EventStoreUnavailableError } from '@sagaflow/core';
import { prepareSchema } from './schema.js';

/** How long a write waits for another connection's lock by default, in milliseconds. */
export const defaultBusyTimeoutMs = 5_000;

/**
 * How long opening a file waits for another process that holds its write lock while creating the schema
 * or moving the file to this version's (at least): ten minutes, a move of over a hundred million events.
 */
export const schemaLockWaitMs = 600_000;

const inMemory = (path: string): boolean => path === ':memory:' || path === '';

/**
 * Opens (creating if missing, with its parent directory) the SQLite file of an event store, set up for
 * durability and for sharing between processes: WAL journal, `synchronous = FULL` so an acknowledged
 * commit survives power loss, and a busy timeout so a writer waits for another process's lock.
 * @throws EventStoreUnavailableError naming `path` when the file cannot be opened or is not a Sagaflow store.
 */
export function openDatabase(path: string, busyTimeoutMs: number, log?: (line: string) => void): Database.Database {
  let db: Database.Database | undefined;
  let step = 'creating its directory';
  try {
    if (!inMemory(path)) mkdirSync(dirname(path), { recursive: true });
    step = 'opening it';
    db = new Database(path, { timeout: busyTimeoutMs });
    step = 'switching it to a WAL journal';
    const mode = switchToWal(db, busyTimeoutMs);
    if (mode !== 'wal' && !inMemory(path)) throw new EventStoreUnavailableError(path, `cannot switch the journal to WAL (it stays "${mode}")`);
    step = 'setting synchronous = FULL';
    db.pragma('synchronous = FULL');
    step = 'checking its schema';
    // Another process may be creating the schema or moving the file to this version's, holding the write
    // lock for seconds per million events: the check waits for it longer than a commit is waited for.
    db.pragma(`busy_timeout = ${Math.max(busyTimeoutMs, schemaLockWaitMs)}`);
    prepareSchema(db, path, log);
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    return db;
  } catch (error) {
    db?.close();
    throw unavailable(path, error, step);
  }
}

/**
 * Switches an open SQLite file to a WAL journal and returns the journal mode it has then (`wal`, or
 * `memory` for an in-memory database). Another process opening the same new file at the same moment
 * makes the switch fail at once with SQLITE_BUSY (SQLite calls no busy handler for it): it is retried
 * for up to `busyTimeoutMs`.
 */
export function switchToWal(db: Database.Database, busyTimeoutMs: number): string {
  return retryWhileBusy(db, () => db.pragma('journal_mode = WAL', { simple: true }) as string, busyTimeoutMs);
}

/**
 * Runs `work`, retrying for up to `timeoutMs` while another connection holds a lock. Only for what SQLite
 * does not wait for itself: switching the journal mode fails at once with SQLITE_BUSY, without calling the
 * busy handler, when another process is opening the same new file at the same moment.
 */
function retryWhileBusy<T>(db: Database.Database, work: () => T, timeoutMs: number): T {
  const deadline = Date.now() + timeoutMs;
  for (let pause = 5; ; pause = Math.min(pause * 2, 100)) {
    try {
      return work();
    } catch (error) {
      const busy = error instanceof Database.SqliteError && error.code.startsWith('SQLITE_BUSY');
      if (!busy || db.inTransaction || Date.now() + pause > deadline) throw error;
      Atomics.wait(sleeper, 0, 0, pause);
    }
  }
}

/** Something to block on for a synchronous pause (opening a store is synchronous). */
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Turns a SQLite or file system failure into the port's error, naming the file; keeps the original as `cause`. */
export function unavailable(path: string, error: unknown, doing?: string): Error {
  const context = doing === undefined ? '' : ` (while ${doing})`;
  if (error instanceof EventStoreUnavailableError) return error;
  if (error instanceof Database.SqliteError && error.code === 'SQLITE_NOTADB') {
    return withCause(new EventStoreUnavailableError(path, `not a Sagaflow event store: the file is not a SQLite database${context}`), error);
  }
  if (error instanceof Database.SqliteError || isSystemError(error)) {
    return withCause(new EventStoreUnavailableError(path, `${error.code}: ${error.message}${context}`), error);
  }
  return error instanceof Error ? error : new Error(String(error));
}

const isSystemError = (error: unknown): error is Error & { code: string } =>
  error instanceof Error && typeof (error as { code?: unknown }).code === 'string';

function withCause<E extends Error>(error: E, cause: unknown): E {
  error.cause = cause;
  return error;
}
