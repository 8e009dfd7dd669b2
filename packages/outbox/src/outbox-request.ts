import * as E from 'fp-ts/lib/Either.js';
import { createRegistry, decodeWith, formatProblems, type AnySagaDefinition, type SagaRegistry, type StartRequest } from '@sagaflow/core';
import { checkToken, startMsgId, startRequestBody, type StartKind } from '@sagaflow/nats';

/** The sagas whose inputs the outbox checks before it stores a request: a registry, or the definitions. */
export type OutboxSagas = SagaRegistry | readonly AnySagaDefinition[];

/** A saga, by name or by definition (a definition's input codec is then checked even without `sagas`). */
export type SagaRef = string | AnySagaDefinition;

/** Options of a start or prepare request written to the outbox. */
export interface OutboxStartOptions {
  /** The instance id (default: a random UUID, returned). */
  readonly instanceId?: string;
  /** Start at this time (epoch ms or a Date): the engine holds the instance `pending` on a durable timer. `start` only. */
  readonly startAt?: number | Date;
}

/** A start request refused before it was stored: the caller's transaction fails with it, so no ghost message is ever sent. */
export class OutboxRequestError extends Error {
  readonly _tag = 'OutboxRequestInvalid';
  constructor(
    readonly saga: string,
    readonly instanceId: string,
    reason: string,
  ) {
    super(`Start request for saga "${saga}" (instance ${instanceId}) not stored in the outbox: ${reason}`);
    this.name = 'OutboxRequestError';
  }
}

/** A request as the outbox stores it. */
export interface EncodedRequest {
  readonly saga: string;
  readonly kind: StartKind;
  readonly instanceId: string;
  /** `<kind>:<instance id>`, the `Nats-Msg-Id` the relay publishes it with. */
  readonly msgId: string;
  /** The JSON body of the start request (`{ kind, instanceId, input?, startAt?, by?, reason? }`). */
  readonly body: string;
}

/** A stored request, as the relay reads it. */
export interface OutboxRow extends EncodedRequest {
  readonly id: number;
  readonly attempts: number;
  readonly createdAt: number;
}

const decoder = new TextDecoder();

/** Looks up definitions by name in `sagas`. */
function sagaLookup(sagas: OutboxSagas | undefined): (name: string) => AnySagaDefinition | undefined {
  if (sagas === undefined) return () => undefined;
  const registry = Array.isArray(sagas) ? createRegistry(sagas as readonly AnySagaDefinition[]) : (sagas as SagaRegistry);
  return (name) => registry.latest(name);
}

/**
 * Checks and serialises a request before anything is written: the saga name (a subject token),
 * the instance id, the input against the saga's codec (when the definition is known) and JSON.
 * @throws OutboxRequestError for anything that would not make a valid start request.
 */
export function encodeRequest(request: StartRequest, definition: AnySagaDefinition | undefined, known: boolean): EncodedRequest {
  const { saga, instanceId } = request;
  const refuse = (reason: string): never => {
    throw new OutboxRequestError(String(saga), String(instanceId), reason);
  };
  if (typeof instanceId !== 'string' || instanceId.trim() === '') refuse('the instance id must be a non-empty string');
  try {
    checkToken('saga name', saga);
  } catch (error) {
    refuse(error instanceof Error ? error.message : String(error));
  }
  let checked = request;
  if (request.kind === undefined || request.kind === 'start' || request.kind === 'prepare') {
    if (definition === undefined && known) refuse('unknown saga (not among the sagas given to the outbox)');
    if (request.input === undefined && definition === undefined) refuse('the input is missing');
    if (definition !== undefined) {
      const decoded = decodeWith(definition.input, request.input);
      if (E.isLeft(decoded)) refuse(`invalid input: ${formatProblems(decoded.left)}`);
      else checked = { ...request, input: definition.input.encode(decoded.right) };
    }
  }
  let body: Uint8Array;
  try {
    body = startRequestBody(checked);
  } catch (error) {
    return refuse(error instanceof Error ? error.message : String(error));
  }
  return { saga, kind: request.kind ?? 'start', instanceId, msgId: startMsgId(request), body: decoder.decode(body) };
}

/** The request `outbox.start` / `prepare` / `confirm` / `cancel` describes. */
export function startRequestOf(
  kind: StartKind,
  saga: string,
  instanceId: string,
  fields: { readonly input?: unknown; readonly startAt?: number | Date; readonly by?: string; readonly reason?: string },
): StartRequest {
  switch (kind) {
    case 'start': {
      const startAt = fields.startAt instanceof Date ? fields.startAt.getTime() : fields.startAt;
      return { kind, saga, instanceId, input: fields.input, ...(startAt === undefined ? {} : { startAt }) };
    }
    case 'prepare':
      return { kind, saga, instanceId, input: fields.input };
    case 'confirm':
      return { kind, saga, instanceId, ...(fields.by === undefined ? {} : { by: fields.by }) };
    case 'cancel':
      return { kind, saga, instanceId, ...(fields.by === undefined ? {} : { by: fields.by }), ...(fields.reason === undefined ? {} : { reason: fields.reason }) };
  }
}

const identifier = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Options of both outbox adapters (`createSqliteOutbox`, `createPgOutbox`). */
export interface OutboxOptions {
  /** Outbox table, `table` or `schema.table`; default `sagaflow_outbox`. */
  readonly table?: string;
  /** Sagas whose input codecs check every start and prepare before it is stored (a registry or the definitions). */
  readonly sagas?: OutboxSagas;
}

/** The fields a request of some kind carries besides its saga and instance (see {@link startRequestOf}). */
export type RequestFields = Parameters<typeof startRequestOf>[3];

/**
 * The request encoder of an outbox over `sagas`: finds the saga's definition (by name among `sagas`, or the
 * one given), builds the request of `kind` and checks and serialises it, before anything is written.
 * @throws OutboxRequestError (from the encoder) for anything that would not make a valid start request.
 */
export function requestEncoder(sagas: OutboxSagas | undefined): (kind: StartKind, saga: SagaRef, instanceId: string, fields: RequestFields) => EncodedRequest {
  const lookup = sagaLookup(sagas);
  return (kind, saga, instanceId, fields) => {
    const definition = typeof saga === 'string' ? lookup(saga) : saga;
    return encodeRequest(startRequestOf(kind, typeof saga === 'string' ? saga : saga.name, instanceId, fields), definition, sagas !== undefined);
  };
}

/** Default name of the outbox table. */
export const defaultOutboxTable = 'sagaflow_outbox';

/** A table name option, checked: `table` or `schema.table`, plain SQL identifiers. */
export interface TableName {
  readonly schema: string | null;
  readonly name: string;
  /** `"schema"."table"` or `"table"`. */
  readonly quoted: string;
}

/**
 * Checks a table name option and quotes it.
 * @throws TypeError for anything but `table` or `schema.table` made of letters, digits and "_", so an option can never inject SQL.
 */
export function tableName(option: string): TableName {
  const parts = typeof option === 'string' ? option.split('.') : [];
  const [first, second] = parts;
  if (first === undefined || parts.length > 2 || !parts.every((part) => identifier.test(part))) {
    throw new TypeError(`Invalid outbox table name ${JSON.stringify(option)}: use "table" or "schema.table" with letters, digits and "_"`);
  }
  return second === undefined ? { schema: null, name: first, quoted: `"${first}"` } : { schema: first, name: second, quoted: `"${first}"."${second}"` };
}

/** What the relay needs of an outbox: claim due rows (with a lease), and record how publishing went. */
export interface OutboxStore {
  /** The outbox table. */
  readonly table: string;
  /** Rows not yet sent and due at `now`, oldest first, at most `limit`; each is leased until `now + leaseMs` (not handed out again meanwhile). */
  claim(limit: number, now: number, leaseMs: number): Promise<readonly OutboxRow[]>;
  /** The row was stored by JetStream. */
  markSent(id: number, now: number): Promise<void>;
  /** The row could not be published; try again at `nextAttemptAt`. */
  markFailed(id: number, error: string, nextAttemptAt: number): Promise<void>;
  /** Hands leased rows back, due at `at` (a relay stopping mid-batch). */
  reschedule(ids: readonly number[], at: number): Promise<void>;
  /** Rows not yet sent. */
  countPending(): Promise<number>;
}
