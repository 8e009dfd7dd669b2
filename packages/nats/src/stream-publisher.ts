import { createInbox, headers as natsHeaders, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';

/** What the stream answered for a stored message. */
export interface StoredAck {
  readonly stream: string;
  readonly seq: number;
  /** The message id was seen within the stream's duplicate window: nothing new was stored. */
  readonly duplicate: boolean;
}

/** Options of one publish. */
export interface StreamPublishOptions {
  /** `Nats-Msg-Id`: the stream stores a message with a given id once within its duplicate window. */
  readonly msgID?: string;
  /** Refuse the publish unless the subject belongs to this stream (`Nats-Expected-Stream`). */
  readonly expectStream?: string;
  /** Headers to send; the `Nats-Msg-Id` and `Nats-Expected-Stream` of the options above are added to them. */
  readonly headers?: MsgHdrs;
}

/** A publish the stream did not confirm: refused, no stream for the subject, or no answer in time. */
export class StreamPublishError extends Error {
  constructor(
    readonly subject: string,
    message: string,
  ) {
    super(`publish to ${subject}: ${message}`);
    this.name = 'StreamPublishError';
  }
}

type Pending = { readonly subject: string; readonly sentAt: number; readonly resolve: (ack: StoredAck) => void; readonly reject: (error: Error) => void };

/** How long a publish waits for the stream's acknowledgement (as nats.js's `js.publish` default). */
const defaultTimeoutMs = 5_000;

/**
 * JetStream publishes whose acknowledgements come back on one shared inbox subscription. nats.js's
 * `js.publish` makes each publish a request of its own (a reply subscription entry, a timer and,
 * even with `noAsyncTraces`, an Error object to settle it); the profile of the engine and the worker
 * showed that bookkeeping as a large share of their CPU. Here a publish costs one map entry, and
 * one interval per connection expires the acknowledgements that do not come.
 */
export class StreamPublisher {
  private readonly prefix: string;
  private readonly pending = new Map<string, Pending>();
  private readonly subscription: Subscription;
  private readonly sweeper: ReturnType<typeof setInterval>;
  private next = 0;
  private closedReason: string | null = null;
  private writes: (() => void)[] = [];
  private writing = false;

  constructor(
    private readonly connection: NatsConnection,
    private readonly timeoutMs = defaultTimeoutMs,
  ) {
    // The connection's own inbox prefix, if it has one: accounts often may subscribe only under it.
    this.prefix = createInbox((connection as { options?: { inboxPrefix?: string } }).options?.inboxPrefix);
    this.subscription = connection.subscribe(`${this.prefix}.*`, { callback: (error, msg) => (error === null ? this.settle(msg) : this.close(error.message)) });
    this.sweeper = setInterval(() => this.expire(), Math.min(1_000, timeoutMs));
    this.sweeper.unref();
    void connection.closed().then(() => this.close('the connection is closed'));
  }

  /** Publishes sent and not yet acknowledged by their stream. */
  get awaitingAcks(): number {
    return this.pending.size;
  }

  /** Publishes to a stream subject; resolves once the stream stored it (or found it a duplicate). */
  publish(subject: string, data: Uint8Array | string, options: StreamPublishOptions = {}): Promise<StoredAck> {
    if (this.closedReason !== null) return Promise.reject(new StreamPublishError(subject, this.closedReason));
    const token = (this.next++).toString(36);
    const h = options.headers ?? (options.msgID !== undefined || options.expectStream !== undefined ? natsHeaders() : undefined);
    if (options.msgID !== undefined) h?.set('Nats-Msg-Id', options.msgID);
    if (options.expectStream !== undefined) h?.set('Nats-Expected-Stream', options.expectStream);
    return new Promise<StoredAck>((resolve, reject) => {
      this.pending.set(token, { subject, sentAt: Date.now(), resolve, reject });
      this.send(() => {
        try {
          this.connection.publish(subject, data, { reply: `${this.prefix}.${token}`, ...(h === undefined ? {} : { headers: h }) });
        } catch (error) {
          this.pending.delete(token);
          reject(new StreamPublishError(subject, error instanceof Error ? error.message : String(error)));
        }
      });
    });
  }

  /**
   * Queues a write to the connection (a publish, a message's acknowledgement) for the end of this
   * event-loop turn. The client writes to the socket once per batch of commands queued together, so
   * messages handled in separate callbacks would each cost a write (a system call here, a read on the
   * server); queued writes go out together. `write` should not throw; if it does, the others still go.
   */
  send(write: () => void): void {
    this.writes.push(write);
    if (this.writing) return;
    this.writing = true;
    setImmediate(() => {
      this.writing = false;
      const batch = this.writes;
      this.writes = [];
      for (const queued of batch) {
        try {
          queued();
        } catch {
          // A write that throws (connection closed) reports its own failure where it can: see publish().
        }
      }
    });
  }

  /** Resolves once the writes queued so far are written and the server has seen them. */
  async flushed(): Promise<void> {
    if (this.writing) await new Promise<void>((resolve) => this.send(resolve));
    if (!this.connection.isClosed()) await this.connection.flush().catch(() => undefined);
  }

  private settle(msg: Msg): void {
    const token = msg.subject.slice(this.prefix.length + 1);
    const waiting = this.pending.get(token);
    if (waiting === undefined) return; // already expired
    this.pending.delete(token);
    const answer = readAck(msg);
    if (typeof answer === 'string') waiting.reject(new StreamPublishError(waiting.subject, answer));
    else waiting.resolve(answer);
  }

  private expire(): void {
    const overdue = Date.now() - this.timeoutMs;
    for (const [token, waiting] of this.pending) {
      if (waiting.sentAt > overdue) continue;
      this.pending.delete(token);
      waiting.reject(new StreamPublishError(waiting.subject, `no acknowledgement from the stream within ${this.timeoutMs} ms`));
    }
  }

  private close(reason: string): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    clearInterval(this.sweeper);
    if (!this.connection.isClosed()) this.subscription.unsubscribe();
    for (const waiting of this.pending.values()) waiting.reject(new StreamPublishError(waiting.subject, reason));
    this.pending.clear();
    publishers.delete(this.connection);
  }
}

/** The acknowledgement in a reply, or why the publish failed. */
function readAck(msg: Msg): StoredAck | string {
  if (msg.data.length === 0 && msg.headers?.code === 503) return 'no stream listens on this subject (no responders)';
  let body: { stream?: unknown; seq?: unknown; duplicate?: unknown; error?: { code?: number; description?: string } };
  try {
    body = msg.json();
  } catch {
    return 'the acknowledgement is not JSON';
  }
  if (body.error !== undefined) return `refused by the stream: ${body.error.description ?? 'unknown error'} (${body.error.code ?? '?'})`;
  if (typeof body.stream !== 'string' || body.stream === '' || typeof body.seq !== 'number') return 'the acknowledgement names no stream';
  return { stream: body.stream, seq: body.seq, duplicate: body.duplicate === true };
}

const publishers = new Map<NatsConnection, StreamPublisher>();

/** The connection's publisher, shared by everything in the process that publishes on it. */
export function streamPublisher(connection: NatsConnection): StreamPublisher {
  let publisher = publishers.get(connection);
  if (publisher === undefined) {
    publisher = new StreamPublisher(connection);
    publishers.set(connection, publisher);
  }
  return publisher;
}
