/**
 * TEST DOUBLE of an EventStoreDB server, for tests only: never a database to run anything on.
 *
 * A gRPC server (`@grpc/grpc-js`) serving the service definitions that `@eventstore/db-client` itself
 * ships (its `generated/*_grpc_pb.js`), so the real client talks to it over the real wire protocol, with an
 * in-memory log behind it. It implements what the client calls for the Sagaflow adapter, as the client's
 * own code paths use it (read in node_modules/@eventstore/db-client/dist):
 *
 * - `ServerFeatures.GetSupportedMethods`, which the client asks once per connection before its first
 *   append, to choose between `Streams.BatchAppend` and `Streams.Append`;
 * - `Streams.Append` (one client stream per append) and `Streams.BatchAppend` (one bidirectional stream
 *   shared by all appends, correlated by id), with expected-revision checks answered the way the server
 *   answers them: `AppendResp.wrong_expected_version`, or a `google.rpc.Status` whose details pack an
 *   `event_store.client.WrongExpectedVersion`;
 * - `Streams.Read` of a stream (forwards or backwards, from start, end or a revision; `stream_not_found`
 *   when it does not exist) and of `$all` (forwards or backwards, from start, end or a position, with
 *   stream-name or event-type filters by prefix or regex);
 * - `Streams.Read` subscriptions to `$all` (optionally filtered) and to a stream: a confirmation, the
 *   catch-up events, filter checkpoints every `checkpoint interval multiplier x search window` considered
 *   events, `caught_up`, then live events and checkpoints, until the client cancels.
 *
 * Simplified compared with a real server (see also the adapter's README):
 * - nothing is persisted; no authentication, TLS, ACLs, clustering, gossip, projections, persistent
 *   subscriptions, stream deletion or metadata streams (those RPCs answer UNIMPLEMENTED);
 * - positions are byte-offset-like numbers with commit = prepare for every event (as the server reports
 *   for events appended through gRPC); they are not real transaction-file offsets;
 * - `$all` holds only what is appended here, plus two system events written at start, so that filters
 *   have something to skip;
 * - a subscription from a position resumes strictly after it (the real server skips the first event at
 *   or after it, which is the same for positions of real events);
 * - catch-up is synchronous and unbounded: no `fell_behind`, no flow control, no max append size, no
 *   deadlines;
 * - filtered (non-subscription) `$all` reads ignore the search window.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';

import type * as StreamsTypes from '@eventstore/db-client/generated/streams_pb.js';
import type * as SharedTypes from '@eventstore/db-client/generated/shared_pb.js';
import type * as StatusTypes from '@eventstore/db-client/generated/status_pb.js';
import type { IStreamsServer } from '@eventstore/db-client/generated/streams_grpc_pb.js';
import type { IServerFeaturesServer } from '@eventstore/db-client/generated/serverfeatures_grpc_pb.js';
import type * as ServerFeaturesTypes from '@eventstore/db-client/generated/serverfeatures_pb.js';
import type * as StreamsGrpcTypes from '@eventstore/db-client/generated/streams_grpc_pb.js';
import type * as ServerFeaturesGrpcTypes from '@eventstore/db-client/generated/serverfeatures_grpc_pb.js';
import type * as AnyTypes from 'google-protobuf/google/protobuf/any_pb.js';

type StreamsPb = typeof StreamsTypes;
type SharedPb = typeof SharedTypes;
type StatusPb = typeof StatusTypes;
type ServerFeaturesPb = typeof ServerFeaturesTypes;
type StreamsGrpc = typeof StreamsGrpcTypes;
type ServerFeaturesGrpc = typeof ServerFeaturesGrpcTypes;
type AnyPb = typeof AnyTypes;
type ReadReq = StreamsTypes.ReadReq;
type ReadResp = StreamsTypes.ReadResp;
type ReadOptions = StreamsTypes.ReadReq.Options;
type FilterOptions = StreamsTypes.ReadReq.Options.FilterOptions;
type AppendReq = StreamsTypes.AppendReq;
type AppendOptions = StreamsTypes.AppendReq.Options;
type AppendMessage = StreamsTypes.AppendReq.ProposedMessage;
type BatchAppendReq = StreamsTypes.BatchAppendReq;
type BatchOptions = StreamsTypes.BatchAppendReq.Options;
type BatchMessage = StreamsTypes.BatchAppendReq.ProposedMessage;
type Uuid = SharedTypes.UUID;
type ProposedMessage = AppendMessage | BatchMessage;

// Everything is loaded from the client's own package (and the google-protobuf it resolves), so the
// messages and service definitions are the very ones the client serializes with.
const clientRequire = createRequire(createRequire(import.meta.url).resolve('@eventstore/db-client'));
const streamsPb = clientRequire('../generated/streams_pb.js') as StreamsPb;
const sharedPb = clientRequire('../generated/shared_pb.js') as SharedPb;
const statusPb = clientRequire('../generated/status_pb.js') as StatusPb;
const serverFeaturesPb = clientRequire('../generated/serverfeatures_pb.js') as ServerFeaturesPb;
const streamsGrpc = clientRequire('../generated/streams_grpc_pb.js') as StreamsGrpc;
const serverFeaturesGrpc = clientRequire('../generated/serverfeatures_grpc_pb.js') as ServerFeaturesGrpc;
const anyPb = clientRequire('google-protobuf/google/protobuf/any_pb.js') as AnyPb;

/** An event as the double stores it. */
export interface StoredEvent {
  readonly streamName: string;
  readonly revision: bigint;
  /** Commit and prepare position alike. */
  readonly position: bigint;
  readonly id: string;
  readonly type: string;
  readonly contentType: string;
  readonly data: Uint8Array;
  readonly metadata: Uint8Array;
  /** .NET ticks (100 ns) since the Unix epoch, as the server's `created` metadata. */
  readonly created: bigint;
}

/** Options of {@link startEsdbTestServer}. */
export interface EsdbTestServerOptions {
  /** Port to listen on (default: a free one). */
  readonly port?: number;
  /** Whether GetSupportedMethods lists BatchAppend, making the client use it (default true, as real servers). */
  readonly batchAppend?: boolean;
  /** Carry over the log of a previous server (a restart). */
  readonly log?: readonly StoredEvent[];
}

/** A running test double. */
export interface EsdbTestServer {
  readonly port: number;
  /** `esdb://127.0.0.1:PORT?tls=false`. */
  readonly url: string;
  /** Every event in `$all` order. */
  readonly log: readonly StoredEvent[];
  /** How many calls each RPC (by path) received. */
  readonly calls: ReadonlyMap<string, number>;
  /** Live subscriptions right now. */
  readonly subscriptions: () => number;
  /** Stops listening and cuts every call in progress. */
  close(): Promise<void>;
}

/** The version the double reports. Its subscriptions send `caught_up` as servers from 23.10 on do. */
export const testServerVersion = '23.10.0';

/** Filter checkpoints come every multiplier x this many considered events, as the server's default window. */
const defaultSearchWindow = 32;
const ticksPerMillisecond = 10_000n;
const firstPosition = 1_024n;

interface Subscriber {
  /** Offers an event appended live; returns nothing. */
  readonly offer: (event: StoredEvent) => void;
}

/** Starts the double on 127.0.0.1. */
export async function startEsdbTestServer(options: EsdbTestServerOptions = {}): Promise<EsdbTestServer> {
  const log: StoredEvent[] = [...(options.log ?? [])];
  const streams = new Map<string, StoredEvent[]>();
  for (const event of log) streams.set(event.streamName, [...(streams.get(event.streamName) ?? []), event]);
  let nextPosition = log.reduce((at, event) => (event.position >= at ? event.position + 1n : at), firstPosition);
  const subscribers = new Set<Subscriber>();
  const calls = new Map<string, number>();
  const count = (path: string): void => void calls.set(path, (calls.get(path) ?? 0) + 1);

  const write = (streamName: string, messages: readonly ProposedMessage[]): StoredEvent[] => {
    const stream = streams.get(streamName) ?? [];
    const created = BigInt(Date.now()) * ticksPerMillisecond;
    const written = messages.map((message, index): StoredEvent => {
      const metadata = message.getMetadataMap();
      const event: StoredEvent = {
        streamName,
        revision: BigInt(stream.length + index),
        position: nextPosition,
        id: uuidText(message.getId()) ?? randomUUID(),
        type: metadata.get('type') ?? '',
        contentType: metadata.get('content-type') ?? 'application/octet-stream',
        data: message.getData_asU8(),
        metadata: message.getCustomMetadata_asU8(),
        created,
      };
      // Like a transaction-file offset: grows by the size of what was written.
      nextPosition += BigInt(64 + streamName.length + event.type.length + event.data.length + event.metadata.length);
      return event;
    });
    streams.set(streamName, [...stream, ...written]);
    log.push(...written);
    for (const event of written) for (const subscriber of subscribers) subscriber.offer(event);
    return written;
  };

  // Two system events, as a real $all always holds some, so that filters have something to skip.
  if (log.length === 0) {
    write('$settings', [systemMessage('$settings', '{"$userStreamAcl":{"$r":"$all"}}')]);
    write('$stats-127.0.0.1:2113', [systemMessage('$statsCollected', '{"proc-startTime":"2024-01-01T00:00:00Z"}')]);
  }

  /** What an append finds: the stream's current revision, or a refusal of the expected one. */
  const check = (streamName: string, expected: Expected): { ok: true } | { ok: false; current: bigint | null } => {
    const stream = streams.get(streamName);
    const current = stream === undefined || stream.length === 0 ? null : BigInt(stream.length - 1);
    const ok =
      expected.kind === 'any' ||
      (expected.kind === 'noStream' && current === null) ||
      (expected.kind === 'streamExists' && current !== null) ||
      (expected.kind === 'revision' && current === expected.revision);
    return ok ? { ok: true } : { ok: false, current };
  };

  const unimplemented = (what: string) => (_call: unknown, callback: grpc.sendUnaryData<never>) =>
    callback({ code: grpc.status.UNIMPLEMENTED, details: `the EventStoreDB test double does not implement ${what}` });
  const streamsServer: IStreamsServer = {
    delete: unimplemented('Streams.Delete'),
    tombstone: unimplemented('Streams.Tombstone'),
    read: (call) => {
      count('Streams.Read');
      serveRead(call, { log, streams, subscribers });
    },

    append: (call, callback) => {
      count('Streams.Append');
      let options: AppendOptions | undefined;
      const messages: AppendMessage[] = [];
      call.on('data', (request: AppendReq) => {
        if (request.hasOptions()) options = request.getOptions();
        const message = request.getProposedMessage();
        if (message !== undefined) messages.push(message);
      });
      call.on('error', () => undefined);
      call.on('end', () => {
        if (options === undefined) return callback({ code: grpc.status.INVALID_ARGUMENT, details: 'the first message must carry options' });
        const missing = missingMetadata(messages);
        if (missing !== undefined) return callback(requiredMetadataMissing(missing));
        const streamName = nameOf(options.getStreamIdentifier());
        const expected = expectedOfAppend(options);
        const verdict = check(streamName, expected);
        const response = new streamsPb.AppendResp();
        if (!verdict.ok) {
          const wrong = new streamsPb.AppendResp.WrongExpectedVersion();
          if (verdict.current === null) wrong.setCurrentNoStream(new sharedPb.Empty());
          else wrong.setCurrentRevision(verdict.current.toString());
          if (expected.kind === 'revision') wrong.setExpectedRevision(expected.revision.toString());
          else if (expected.kind === 'noStream') wrong.setExpectedNoStream(new sharedPb.Empty());
          else if (expected.kind === 'streamExists') wrong.setExpectedStreamExists(new sharedPb.Empty());
          else wrong.setExpectedAny(new sharedPb.Empty());
          response.setWrongExpectedVersion(wrong);
          return callback(null, response);
        }
        const written = write(streamName, messages);
        const success = new streamsPb.AppendResp.Success();
        const last = written.at(-1) ?? streams.get(streamName)?.at(-1);
        if (last === undefined) success.setNoStream(new sharedPb.Empty());
        else success.setCurrentRevision(last.revision.toString());
        if (written.length === 0 || last === undefined) success.setNoPosition(new sharedPb.Empty());
        else {
          const position = new streamsPb.AppendResp.Position();
          position.setCommitPosition(last.position.toString());
          position.setPreparePosition(last.position.toString());
          success.setPosition(position);
        }
        response.setSuccess(success);
        callback(null, response);
      });
    },

    batchAppend: (call) => {
      count('Streams.BatchAppend');
      const pending = new Map<string, { options: BatchOptions; messages: BatchMessage[] }>();
      call.on('error', () => undefined);
      call.on('data', (request: BatchAppendReq) => {
        const correlation = request.getCorrelationId();
        const key = uuidText(correlation) ?? '';
        const given = request.getOptions();
        if (given !== undefined && !pending.has(key)) pending.set(key, { options: given, messages: [] });
        const entry = pending.get(key);
        if (entry === undefined) return;
        entry.messages.push(...request.getProposedMessagesList());
        if (!request.getIsFinal()) return;
        pending.delete(key);
        const response = new streamsPb.BatchAppendResp();
        response.setCorrelationId(correlation);
        response.setStreamIdentifier(entry.options.getStreamIdentifier());
        const streamName = nameOf(entry.options.getStreamIdentifier());
        const expected = expectedOfBatch(entry.options);
        const missing = missingMetadata(entry.messages);
        const verdict = check(streamName, expected);
        if (missing !== undefined) {
          response.setError(status(grpc.status.INVALID_ARGUMENT, `Required metadata property ${missing} is missing`));
        } else if (!verdict.ok) {
          const wrong = new sharedPb.WrongExpectedVersion();
          if (verdict.current === null) wrong.setCurrentNoStream(new sharedPb.Empty());
          else wrong.setCurrentStreamRevision(verdict.current.toString());
          if (expected.kind === 'revision') wrong.setExpectedStreamPosition(expected.revision.toString());
          else if (expected.kind === 'noStream') wrong.setExpectedNoStream(new sharedPb.Empty());
          else if (expected.kind === 'streamExists') wrong.setExpectedStreamExists(new sharedPb.Empty());
          else wrong.setExpectedAny(new sharedPb.Empty());
          response.setError(status(grpc.status.ALREADY_EXISTS, 'WrongExpectedVersion', wrong.serializeBinary(), 'event_store.client.WrongExpectedVersion'));
        } else {
          const written = write(streamName, entry.messages);
          const success = new streamsPb.BatchAppendResp.Success();
          const last = written.at(-1) ?? streams.get(streamName)?.at(-1);
          if (last === undefined) success.setNoStream(new sharedPb.Empty());
          else success.setCurrentRevision(last.revision.toString());
          if (written.length === 0 || last === undefined) success.setNoPosition(new sharedPb.Empty());
          else success.setPosition(allPosition(last.position));
          response.setSuccess(success);
        }
        call.write(response);
      });
      call.on('end', () => call.end());
    },
  };

  const serverFeatures: IServerFeaturesServer = {
    getSupportedMethods: (_call, callback) => {
      count('ServerFeatures.GetSupportedMethods');
      const methods = new serverFeaturesPb.SupportedMethods();
      methods.setEventStoreServerVersion(testServerVersion);
      const supported = [['event_store.client.streams.streams', 'read'], ['event_store.client.streams.streams', 'append']];
      if (options.batchAppend !== false) supported.push(['event_store.client.streams.streams', 'batchappend']);
      supported.push(['event_store.client.server_features.serverfeatures', 'getsupportedmethods']);
      methods.setMethodsList(
        supported.map(([service, method]) => {
          const entry = new serverFeaturesPb.SupportedMethod();
          entry.setServiceName(service ?? '');
          entry.setMethodName(method ?? '');
          return entry;
        }),
      );
      callback(null, methods);
    },
  };

  const server = new grpc.Server();
  server.addService(streamsGrpc.StreamsService, streamsServer);
  server.addService(serverFeaturesGrpc.ServerFeaturesService, serverFeatures);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${options.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );

  return {
    port,
    url: `esdb://127.0.0.1:${port}?tls=false`,
    log,
    calls,
    subscriptions: () => subscribers.size,
    close: () =>
      new Promise<void>((resolve) => {
        subscribers.clear();
        server.forceShutdown();
        resolve();
      }),
  };
}

type Expected = { readonly kind: 'any' | 'noStream' | 'streamExists' } | { readonly kind: 'revision'; readonly revision: bigint };

function expectedOfAppend(options: AppendOptions): Expected {
  if (options.hasRevision()) return { kind: 'revision', revision: BigInt(options.getRevision()) };
  if (options.hasNoStream()) return { kind: 'noStream' };
  if (options.hasStreamExists()) return { kind: 'streamExists' };
  return { kind: 'any' };
}

function expectedOfBatch(options: BatchOptions): Expected {
  if (options.hasStreamPosition()) return { kind: 'revision', revision: BigInt(options.getStreamPosition()) };
  if (options.hasNoStream()) return { kind: 'noStream' };
  if (options.hasStreamExists()) return { kind: 'streamExists' };
  return { kind: 'any' };
}

const missingMetadata = (messages: readonly ProposedMessage[]): string | undefined => {
  for (const message of messages) {
    for (const key of ['type', 'content-type']) if (!message.getMetadataMap().has(key)) return key;
  }
  return undefined;
};

/** The trailer the server sends when an append lacks `type` or `content-type` (the client reads `exception`). */
function requiredMetadataMissing(property: string): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  metadata.set('exception', 'missing-required-metadata-property');
  metadata.set('required-properties', property);
  return { code: grpc.status.INVALID_ARGUMENT, details: `Required metadata property ${property} is missing`, metadata };
}

function status(code: grpc.status, message: string, details?: Uint8Array, typeName?: string): StatusTypes.Status {
  const result = new statusPb.Status();
  result.setCode(code as number);
  result.setMessage(message);
  const packed = new anyPb.Any();
  if (details !== undefined && typeName !== undefined) packed.pack(details, typeName);
  else packed.pack(new sharedPb.Empty().serializeBinary(), 'google.protobuf.Empty');
  result.setDetails(packed);
  return result;
}

function systemMessage(type: string, json: string): AppendMessage {
  const message = new streamsPb.AppendReq.ProposedMessage();
  const id = new sharedPb.UUID();
  id.setString(randomUUID());
  message.setId(id);
  message.getMetadataMap().set('type', type);
  message.getMetadataMap().set('content-type', 'application/json');
  message.setData(Buffer.from(json, 'utf8'));
  return message;
}

const nameOf = (identifier: SharedTypes.StreamIdentifier | undefined): string =>
  identifier === undefined ? '' : Buffer.from(identifier.getStreamName_asU8()).toString('utf8');

/** A UUID message as text, from either of its two forms. */
function uuidText(uuid: Uuid | undefined): string | undefined {
  if (uuid === undefined) return undefined;
  if (uuid.hasString()) return uuid.getString();
  const structured = uuid.getStructured();
  if (structured === undefined) return undefined;
  const hex = [structured.getMostSignificantBits(), structured.getLeastSignificantBits()]
    .map((bits) => BigInt.asUintN(64, BigInt(bits)).toString(16).padStart(16, '0'))
    .join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function uuidMessage(id: string, structured: boolean): Uuid {
  const uuid = new sharedPb.UUID();
  if (!structured) return uuid.setString(id);
  const hex = id.replace(/-/g, '');
  const bits = new sharedPb.UUID.Structured();
  bits.setMostSignificantBits(BigInt.asIntN(64, BigInt(`0x${hex.slice(0, 16)}`)).toString());
  bits.setLeastSignificantBits(BigInt.asIntN(64, BigInt(`0x${hex.slice(16)}`)).toString());
  return uuid.setStructured(bits);
}

function allPosition(position: bigint): SharedTypes.AllStreamPosition {
  const result = new sharedPb.AllStreamPosition();
  result.setCommitPosition(position.toString());
  result.setPreparePosition(position.toString());
  return result;
}

/** An event as a `ReadResp`: the recorded event with its position (set for stream reads too, as servers from 22.10 on do). */
function eventResponse(event: StoredEvent, structuredIds: boolean): ReadResp {
  const recorded = new streamsPb.ReadResp.ReadEvent.RecordedEvent();
  recorded.setId(uuidMessage(event.id, structuredIds));
  const identifier = new sharedPb.StreamIdentifier();
  identifier.setStreamName(Buffer.from(event.streamName, 'utf8'));
  recorded.setStreamIdentifier(identifier);
  recorded.setStreamRevision(event.revision.toString());
  recorded.setCommitPosition(event.position.toString());
  recorded.setPreparePosition(event.position.toString());
  recorded.getMetadataMap().set('type', event.type);
  recorded.getMetadataMap().set('content-type', event.contentType);
  recorded.getMetadataMap().set('created', event.created.toString());
  recorded.setData(event.data);
  recorded.setCustomMetadata(event.metadata);
  const read = new streamsPb.ReadResp.ReadEvent();
  read.setEvent(recorded);
  read.setCommitPosition(event.position.toString());
  return new streamsPb.ReadResp().setEvent(read);
}

const checkpointResponse = (position: bigint): ReadResp => {
  const checkpoint = new streamsPb.ReadResp.Checkpoint();
  checkpoint.setCommitPosition(position.toString());
  checkpoint.setPreparePosition(position.toString());
  return new streamsPb.ReadResp().setCheckpoint(checkpoint);
};

/** Whether an event passes a `$all` filter (none: every event). */
function filterOf(options: ReadOptions): { readonly matches: (event: StoredEvent) => boolean; readonly checkpointEvery: number | null } {
  const filter: FilterOptions | undefined = options.getFilter();
  if (!options.hasFilter() || filter === undefined) return { matches: () => true, checkpointEvery: null };
  const onStream = filter.hasStreamIdentifier();
  const expression = onStream ? filter.getStreamIdentifier() : filter.getEventType();
  const prefixes = expression?.getPrefixList() ?? [];
  const regex = expression?.getRegex() ? new RegExp(expression.getRegex()) : null;
  const window = filter.hasMax() ? filter.getMax() : defaultSearchWindow;
  return {
    matches: (event) => {
      const subject = onStream ? event.streamName : event.type;
      if (prefixes.length > 0 && !prefixes.some((prefix) => subject.startsWith(prefix))) return false;
      return regex === null || regex.test(subject);
    },
    checkpointEvery: Math.max(1, filter.getCheckpointintervalmultiplier()) * window,
  };
}

interface ReadState {
  readonly log: readonly StoredEvent[];
  readonly streams: ReadonlyMap<string, readonly StoredEvent[]>;
  readonly subscribers: Set<Subscriber>;
}

/** Serves one `Streams.Read`: a read of a stream or of `$all`, or a subscription to either. */
function serveRead(call: grpc.ServerWritableStream<ReadReq, ReadResp>, state: ReadState): void {
  const options = call.request.getOptions();
  if (options === undefined) {
    call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'options are required' });
    return;
  }
  const structuredIds = options.getUuidOption()?.hasStructured() ?? false;
  const send = (event: StoredEvent): void => void call.write(eventResponse(event, structuredIds));
  const backwards = options.getReadDirection() === streamsPb.ReadReq.Options.ReadDirection.BACKWARDS;
  const limit = options.hasCount() ? BigInt(options.getCount()) : null;

  if (options.hasStream()) {
    const streamOptions = options.getStream();
    const name = nameOf(streamOptions?.getStreamIdentifier());
    const stream = state.streams.get(name);
    if (options.hasSubscription()) {
      // From a revision: strictly after it. From the start: everything. From the end: only live events.
      const from = streamOptions?.hasRevision() ? BigInt(streamOptions.getRevision()) : streamOptions?.hasEnd() ? null : -1n;
      subscribe(call, state, structuredIds, (event) => event.streamName === name, null, (stream ?? []).filter((e) => from !== null && e.revision > from));
      return;
    }
    if (stream === undefined) {
      const notFound = new streamsPb.ReadResp.StreamNotFound();
      notFound.setStreamIdentifier(streamOptions?.getStreamIdentifier());
      call.write(new streamsPb.ReadResp().setStreamNotFound(notFound));
      call.end();
      return;
    }
    let selected: readonly StoredEvent[];
    if (streamOptions?.hasRevision()) {
      const revision = BigInt(streamOptions.getRevision());
      selected = backwards ? stream.filter((e) => e.revision <= revision).reverse() : stream.filter((e) => e.revision >= revision);
    } else if (streamOptions?.hasEnd()) {
      selected = backwards ? [...stream].reverse() : [];
    } else {
      selected = backwards ? [] : stream;
    }
    for (const event of take(selected, limit)) send(event);
    call.end();
    return;
  }

  const allOptions = options.getAll();
  const { matches, checkpointEvery } = filterOf(options);
  if (options.hasSubscription()) {
    const from = allOptions?.hasPosition() ? BigInt(allOptions.getPosition()?.getCommitPosition() ?? '0') : allOptions?.hasEnd() ? null : -1n;
    subscribe(call, state, structuredIds, matches, checkpointEvery, state.log.filter((e) => from !== null && e.position > from));
    return;
  }
  let selected: readonly StoredEvent[];
  if (allOptions?.hasPosition()) {
    const position = BigInt(allOptions.getPosition()?.getCommitPosition() ?? '0');
    selected = backwards ? state.log.filter((e) => e.position < position).reverse() : state.log.filter((e) => e.position >= position);
  } else if (allOptions?.hasEnd()) {
    selected = backwards ? [...state.log].reverse() : [];
  } else {
    selected = backwards ? [] : state.log;
  }
  for (const event of take(selected.filter(matches), limit)) send(event);
  call.end();
}

const take = <T>(items: readonly T[], limit: bigint | null): readonly T[] => (limit === null || limit >= BigInt(items.length) ? items : items.slice(0, Number(limit)));

/**
 * A catch-up subscription: confirmation, the `history` that matches, checkpoints every `checkpointEvery`
 * considered events (filtered `$all` subscriptions only), `caught_up`, then live events as they are
 * appended, until the client cancels.
 */
function subscribe(
  call: grpc.ServerWritableStream<ReadReq, ReadResp>,
  state: ReadState,
  structuredIds: boolean,
  matches: (event: StoredEvent) => boolean,
  checkpointEvery: number | null,
  history: readonly StoredEvent[],
): void {
  const confirmation = new streamsPb.ReadResp.SubscriptionConfirmation();
  confirmation.setSubscriptionId(randomUUID());
  call.write(new streamsPb.ReadResp().setConfirmation(confirmation));
  let considered = 0;
  const consider = (event: StoredEvent): void => {
    if (matches(event)) call.write(eventResponse(event, structuredIds));
    considered += 1;
    if (checkpointEvery !== null && considered >= checkpointEvery) {
      considered = 0;
      call.write(checkpointResponse(event.position));
    }
  };
  for (const event of history) consider(event);
  call.write(new streamsPb.ReadResp().setCaughtUp(new streamsPb.ReadResp.CaughtUp()));
  const subscriber: Subscriber = { offer: consider };
  state.subscribers.add(subscriber);
  const stop = (): void => void state.subscribers.delete(subscriber);
  call.on('cancelled', stop);
  call.on('close', stop);
  call.on('error', stop);
}
