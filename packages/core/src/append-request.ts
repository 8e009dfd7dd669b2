import { noStream, type AppendRequest } from './event-store.js';

/**
 * Rejects append requests no correct caller makes, before anything is written; every adapter
 * applies these rules. The summary must describe the stream after the append, and its numbers
 * must be integers (the columns are STRICT INTEGER).
 * @throws TypeError naming the instance and the problem.
 */
export function checkAppendRequest(request: AppendRequest): void {
  const { instanceId, expectedRevision, events, summary } = request;
  const fail = (why: string): never => {
    throw new TypeError(`Invalid append to instance "${instanceId}": ${why}`);
  };
  if (!Number.isSafeInteger(expectedRevision) || expectedRevision < noStream) fail(`expected revision ${expectedRevision} is not an integer >= ${noStream}`);
  if (events.length === 0) fail('no events');
  if (summary.instanceId !== instanceId) fail(`its summary is for instance "${summary.instanceId}"`);
  const revision = expectedRevision + events.length;
  if (summary.revision !== revision) fail(`its summary says revision ${summary.revision}, the append ends at revision ${revision}`);
  for (const field of ['version', 'attempts', 'startedAt', 'updatedAt'] as const) {
    if (!Number.isSafeInteger(summary[field])) fail(`its summary's ${field} ${summary[field]} is not an integer`);
  }
}

/** @throws TypeError unless `limit` is a non-negative integer (SQLite would read a negative one as "no limit"). */
export function checkLimit(operation: string, limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 0) throw new TypeError(`${operation}: limit ${limit} is not a non-negative integer`);
}
