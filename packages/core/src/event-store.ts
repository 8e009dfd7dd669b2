import type { SagaStatus } from './status.js';

/** Expected revision of a stream that must not exist yet. */
export const noStream = -1;

/** An event as stored: its stream, place in the stream and in the global order, and its JSON. */
export interface RecordedEvent {
  readonly instanceId: string;
  /** 0-based position within the instance's stream. */
  readonly revision: number;
  /** Position in the global order of all events; strictly increasing, with gaps allowed. */
  readonly position: number;
  readonly type: string;
  /** The event, as the JSON text it was stored as; decoded by `decodeRecorded`. */
  readonly json: string;
  /** Store time, epoch milliseconds. */
  readonly recordedAt: number;
}

/** The listing row of an instance, kept up to date with every append. */
export interface InstanceSummary {
  readonly instanceId: string;
  readonly saga: string;
  readonly version: number;
  readonly status: SagaStatus;
  /** The machine state value, as JSON. */
  readonly state: string;
  /** The step or compensation being worked on, if any. */
  readonly currentStep: string | null;
  /** Attempts of the current step so far. */
  readonly attempts: number;
  /** Revision of the instance's last event. */
  readonly revision: number;
  readonly startedAt: number;
  readonly updatedAt: number;
}

/** Events to append to one instance's stream, with its listing row after them. */
export interface AppendRequest {
  readonly instanceId: string;
  /** Revision of the last event the decision was made on, or {@link noStream}. */
  readonly expectedRevision: number;
  readonly events: readonly { readonly type: string; readonly json: string }[];
  readonly summary: InstanceSummary;
}

/** Where an append landed. */
export interface AppendResult {
  /** Revision of the last event appended. */
  readonly revision: number;
  /** Global position of the last event appended. */
  readonly position: number;
}

/** Page size of {@link EventStore.listInstances} when the filter gives none. */
export const defaultListLimit = 100;

/** Filter of {@link EventStore.listInstances}; results are newest first (by last change). */
export interface InstanceFilter {
  readonly saga?: string;
  readonly statuses?: readonly SagaStatus[];
  /** Only instances changed at or after this time (epoch ms). */
  readonly updatedSince?: number;
  /** Only instances changed before this time (epoch ms). */
  readonly updatedBefore?: number;
  /** Only instances started at or after this time (epoch ms). */
  readonly startedSince?: number;
  /** Only instances started before this time (epoch ms). */
  readonly startedBefore?: number;
  /** Only instances whose id starts with this text. */
  readonly idPrefix?: string;
  /** At most this many (default 100). */
  readonly limit?: number;
  /** Keyset cursor: only instances after this one in the listing order. */
  readonly after?: { readonly updatedAt: number; readonly instanceId: string };
}

/** The append was made on a stale revision: another writer got there first. Reload and decide again. */
export class WrongExpectedRevisionError extends Error {
  readonly _tag = 'WrongExpectedRevision';
  constructor(
    readonly instanceId: string,
    readonly expectedRevision: number,
    readonly actualRevision: number,
  ) {
    super(`Instance "${instanceId}" is at revision ${actualRevision}, not ${expectedRevision}: it changed concurrently`);
    this.name = 'WrongExpectedRevisionError';
  }
}

/** The store cannot be reached or used. */
export class EventStoreUnavailableError extends Error {
  readonly _tag = 'EventStoreUnavailable';
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`Event store ${url} is unavailable: ${reason}`);
    this.name = 'EventStoreUnavailableError';
  }
}

/**
 * The event store port. Every adapter (memory, SQLite, EventStoreDB) passes the same contract suite.
 * An append is atomic: all its events and its listing row, or nothing.
 */
export interface EventStore {
  /** Appends to one stream if it is at `expectedRevision`; otherwise throws {@link WrongExpectedRevisionError}. */
  append(request: AppendRequest): Promise<AppendResult>;
  /**
   * Appends to several streams at once (grouped commit). Each request succeeds or fails on its own;
   * the result at each index is the append's result or its error.
   */
  appendMany(requests: readonly AppendRequest[]): Promise<readonly (AppendResult | WrongExpectedRevisionError)[]>;
  /** The events of one stream in revision order; empty if the stream does not exist. */
  readStream(instanceId: string): Promise<readonly RecordedEvent[]>;
  /** Events of all streams in global order, strictly after `position` (use -1 or 0 for the start). */
  readAll(afterPosition: number, limit: number): Promise<readonly RecordedEvent[]>;
  /** Listing rows matching the filter, newest change first. */
  listInstances(filter?: InstanceFilter): Promise<readonly InstanceSummary[]>;
  /** The listing row of one instance. */
  getInstance(instanceId: string): Promise<InstanceSummary | undefined>;
  close(): Promise<void>;
}
