import { isSagaStatus, sagaStatuses, type InstanceFilter, type SagaStatus } from '@sagaflow/core';
import { parseDuration } from './duration.js';

/** A listing asked for in words, as `sagaflow list` options or the console's query string carry it. */
export interface ListRequest {
  readonly saga?: string | undefined;
  /** Statuses, each possibly a comma-separated list. */
  readonly statuses?: readonly string[] | undefined;
  /** Changed within this duration (`90s`, `2h`, `7d`). */
  readonly since?: string | undefined;
  /** Changed at or after, before this instant (ISO 8601). */
  readonly changedFrom?: string | undefined;
  readonly changedTo?: string | undefined;
  /** Started at or after, before this instant (ISO 8601). */
  readonly startedFrom?: string | undefined;
  readonly startedTo?: string | undefined;
  /** Instance ids starting with this. */
  readonly prefix?: string | undefined;
  /** Page size. */
  readonly limit?: string | undefined;
  /** The keyset cursor of the page before: `<epoch ms>:<instance id>`. */
  readonly after?: string | undefined;
}

/** The store filter of a listing, with its page size (the filter asks for one more row, to know whether more match). */
export interface ListQuery {
  readonly filter: InstanceFilter;
  readonly limit: number;
  readonly statuses: readonly SagaStatus[];
}

/** A listing request that cannot be read: `option` is what to correct, `problem` says how. */
export interface ListProblem {
  readonly option: string;
  readonly problem: string;
}

/** Default and largest page of a listing. */
export interface ListLimits {
  readonly default: number;
  readonly max: number;
}

/** The command's: a page may be large for scripts. */
export const listLimits: ListLimits = { default: 100, max: 100_000 };

/**
 * Reads a listing request into the store's filter, or says what is wrong with it. The command and the
 * console both list through it, so they accept and refuse the same things.
 */
export function listQueryOf(request: ListRequest, now: number, limits: ListLimits = listLimits): { readonly ok: true; readonly query: ListQuery } | { readonly ok: false; readonly error: ListProblem } {
  const statuses = (request.statuses ?? []).flatMap((value) => value.split(',')).map((status) => status.trim()).filter((status) => status !== '');
  const unknown = statuses.filter((status) => !isSagaStatus(status));
  if (unknown.length > 0) return fail('status', `Unknown status ${unknown.map((s) => `"${s}"`).join(', ')}: use ${sagaStatuses.join(', ')}`);
  let since: number | undefined;
  if (request.since !== undefined) {
    since = parseDuration(request.since);
    if (since === undefined) return fail('since', `--since takes a duration such as 90s, 15m, 2h, 7d or 1w, not "${request.since}"`);
  }
  const instants: Partial<Record<'changedFrom' | 'changedTo' | 'startedFrom' | 'startedTo', number>> = {};
  for (const option of ['changedFrom', 'changedTo', 'startedFrom', 'startedTo'] as const) {
    const text = request[option];
    if (text === undefined) continue;
    const at = Date.parse(text);
    if (!/^\d{4}-\d{2}-\d{2}/u.test(text) || Number.isNaN(at)) return fail(option, `${option} takes a time such as 2026-12-06T10:00:00Z, not "${text}"`);
    instants[option] = at;
  }
  let limit = limits.default;
  if (request.limit !== undefined) {
    limit = /^\d+$/u.test(request.limit.trim()) ? Number(request.limit) : Number.NaN;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > limits.max) return fail('limit', `--limit must be an integer from 1 to ${limits.max}, not "${request.limit}"`);
  }
  let after: InstanceFilter['after'];
  if (request.after !== undefined) {
    const colon = request.after.indexOf(':');
    const updatedAt = Number(request.after.slice(0, colon));
    if (colon < 1 || !Number.isSafeInteger(updatedAt) || colon === request.after.length - 1) {
      return fail('after', `--after takes a cursor "<epoch ms>:<instance id>" as printed by list, not "${request.after}"`);
    }
    after = { updatedAt, instanceId: request.after.slice(colon + 1) };
  }
  const changedFrom = Math.max(since === undefined ? -Infinity : now - since, instants.changedFrom ?? -Infinity);
  const filter: InstanceFilter = {
    ...(request.saga === undefined || request.saga === '' ? {} : { saga: request.saga }),
    ...(statuses.length === 0 ? {} : { statuses: statuses as SagaStatus[] }),
    ...(Number.isFinite(changedFrom) ? { updatedSince: changedFrom } : {}),
    ...(instants.changedTo === undefined ? {} : { updatedBefore: instants.changedTo }),
    ...(instants.startedFrom === undefined ? {} : { startedSince: instants.startedFrom }),
    ...(instants.startedTo === undefined ? {} : { startedBefore: instants.startedTo }),
    ...(request.prefix === undefined || request.prefix === '' ? {} : { idPrefix: request.prefix }),
    ...(after === undefined ? {} : { after }),
    limit: limit + 1,
  };
  return { ok: true, query: { filter, limit, statuses: statuses as SagaStatus[] } };
}

const fail = (option: string, problem: string): { readonly ok: false; readonly error: ListProblem } => ({ ok: false, error: { option, problem } });

/** The cursor of the page after `row`. */
export const cursorOf = (row: { readonly updatedAt: number; readonly instanceId: string }): string => `${row.updatedAt}:${row.instanceId}`;
