import { randomUUID } from 'node:crypto';
import { binaryEvent, jsonEvent, type EventData, type JSONType, type Position } from '@eventstore/db-client';
import type { AppendRequest, InstanceSummary, RecordedEvent } from '@sagaflow/core';
import { summaryFrom } from './instance-listing.js';

/** The metadata written with every event. */
export interface SagaflowMetadata {
  /** The instance id: every event of an instance shares it (EventStoreDB's `$by_correlation_id` projection reads it). */
  readonly $correlationId: string;
  /**
   * What caused the event: the id of the event before it in the same append, and for the first event of an
   * append, the instance id (the append is caused by an input the engine decided on for the instance, which
   * is not itself an event of the stream).
   */
  readonly $causationId: string;
  /** On the last event of each append only: the instance's listing row after the append. */
  readonly sagaflowSummary?: InstanceSummary;
}

/**
 * The events of an append as EventStoreDB events, with fresh ids and the metadata above. An event whose
 * text is canonical JSON of an object or array (the text `JSON.stringify` would give back for it, as the
 * engine writes) is stored as `application/json`, readable in EventStoreDB's UI and projections; any
 * other text is stored byte for byte as `application/octet-stream` (UTF-8), so that reading it back
 * gives the exact text.
 */
export function encodeAppend(request: AppendRequest): EventData[] {
  const ids = request.events.map(() => randomUUID());
  const last = request.events.length - 1;
  return request.events.map((event, index) => {
    const id = ids[index] ?? randomUUID();
    const metadata: SagaflowMetadata = {
      $correlationId: request.instanceId,
      $causationId: index === 0 ? request.instanceId : (ids[index - 1] ?? request.instanceId),
      ...(index === last ? { sagaflowSummary: request.summary } : {}),
    };
    const data = canonicalJson(event.json);
    return data === undefined
      ? binaryEvent({ id, type: event.type, data: Buffer.from(event.json, 'utf8'), metadata: { ...metadata } })
      : jsonEvent({ id, type: event.type, data, metadata: { ...metadata } });
  });
}

/** The parsed value of `text` if it is canonical JSON of an object or array, else undefined. */
function canonicalJson(text: string): JSONType | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  return JSON.stringify(value) === text ? (value as JSONType) : undefined;
}

/** What this adapter reads of an event the client returns. */
export interface ClientEvent {
  readonly streamId: string;
  readonly revision: bigint;
  readonly type: string;
  readonly created: Date;
  readonly isJson: boolean;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly position?: Position;
}

/** The largest `$all` position the port's numbers hold exactly (9 PB of transaction log). */
const maxPosition = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * The port's position of an event: its `$all` commit position. EventStoreDB reports, for every event
 * appended through gRPC, commit position = prepare position = the event's own offset in the transaction
 * log, so the number is unique per event and grows in `$all` order.
 * @throws Error when the server reports no position (servers before 22.6 on stream reads).
 */
export function positionOf(event: ClientEvent): number {
  const commit = event.position?.commit;
  if (commit === undefined || commit < 0n || commit > maxPosition) {
    throw new Error(
      `EventStoreDB reported no usable $all position (${String(commit)}) for event ${event.revision} of stream "${event.streamId}"; Sagaflow needs EventStoreDB 23.10 or later`,
    );
  }
  return Number(commit);
}

/** An event as the port's record, with the instance id its stream name carries. */
export function decodeEvent(event: ClientEvent, instanceId: string): RecordedEvent {
  return {
    instanceId,
    revision: Number(event.revision),
    position: positionOf(event),
    type: event.type,
    json: textOf(event),
    recordedAt: event.created.getTime(),
  };
}

/** The event's text: binary data as UTF-8, JSON data (which the client parses) as its canonical text again. */
function textOf(event: ClientEvent): string {
  if (event.data instanceof Uint8Array) return Buffer.from(event.data.buffer, event.data.byteOffset, event.data.byteLength).toString('utf8');
  // A JSON event the client could not parse comes as its raw text.
  if (event.isJson && typeof event.data === 'string') {
    try {
      JSON.parse(event.data);
    } catch {
      return event.data;
    }
  }
  return JSON.stringify(event.data) ?? '';
}

/** The listing row an event carries in its metadata (the last event of each append), if any. */
export function summaryOfEvent(event: ClientEvent, instanceId: string): InstanceSummary | undefined {
  const metadata = event.metadata;
  if (typeof metadata !== 'object' || metadata === null || metadata instanceof Uint8Array) return undefined;
  const summary = summaryFrom((metadata as { sagaflowSummary?: unknown }).sagaflowSummary);
  return summary !== undefined && summary.instanceId === instanceId && summary.revision === Number(event.revision) ? summary : undefined;
}
