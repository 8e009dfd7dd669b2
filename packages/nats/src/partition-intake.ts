import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { TransportHandlers } from '@sagaflow/core';
import { newLoops, pump, stopLoops, type Loops } from './consumer-loops.js';
import type { Naming } from './naming.js';
import { serveOwnerRequests, type OwnerHandlers } from './owner-requests.js';
import { deleteWideConsumers, renewPartitionConsumers, renewWideConsumers, type ConsumerSettings } from './topology.js';

/** What the intake needs from its transport. */
export interface IntakeOptions {
  readonly connection: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly names: Naming;
  readonly partitions: number;
  readonly consumer?: ConsumerSettings | undefined;
  /** Handles a reply or a start request with the handlers of its partition's holder. */
  readonly onReply: (msg: JsMsg, handlers: TransportHandlers) => Promise<void>;
  readonly onStart: (msg: JsMsg, handlers: TransportHandlers) => Promise<void>;
  /** Hands back a message of a partition not held here (it goes to the partition's next holder). */
  readonly notHeld: (msg: JsMsg) => void;
  /** What the holder of a partition answers to requests from other engines. */
  readonly ownerHandlers: (handlers: TransportHandlers) => OwnerHandlers;
}

/**
 * The replies and start requests of the partitions an engine holds. While it holds only some, each
 * partition has its consumers; while it holds every one, one consumer per stream takes them all in,
 * which costs the NATS server far less per message than as many consumers as partitions. It moves
 * between the two as partitions come and go; each move makes the new consumers afresh, so what the old
 * ones delivered without an acknowledgement is delivered again at once.
 */
export class PartitionIntake {
  private readonly held = new Map<number, { readonly handlers: TransportHandlers; readonly owner: { stop(): Promise<void> } }>();
  private readonly narrow = new Map<number, Loops>();
  private wide: Loops | null = null;

  constructor(private readonly options: IntakeOptions) {}

  /** The partitions taken in now, in order. */
  get listening(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  /** The handlers of a partition taken in here, if it is. */
  handlersOf(partition: number): TransportHandlers | undefined {
    return this.held.get(partition)?.handlers;
  }

  /** Starts taking in `partitions` (those not taken in yet), to `handlers`. */
  async listen(partitions: readonly number[], handlers: TransportHandlers): Promise<void> {
    const added = partitions.filter((partition) => !this.held.has(partition));
    if (added.length === 0) return;
    const { connection, names } = this.options;
    for (const partition of added) this.held.set(partition, { handlers, owner: serveOwnerRequests(connection, names, partition, this.options.ownerHandlers(handlers)) });
    if (this.held.size === this.options.partitions) {
      await this.goWide();
      return;
    }
    for (const partition of added) await this.listenNarrow(partition, handlers);
  }

  /** Stops taking in a partition; what was not acknowledged goes to its next holder. */
  async unlisten(partition: number): Promise<void> {
    const held = this.held.get(partition);
    if (held === undefined) return;
    this.held.delete(partition);
    await held.owner.stop();
    if (this.wide !== null) {
      // Holding less than every partition: each remaining one gets its consumers again.
      await stopLoops(this.wide);
      this.wide = null;
      await deleteWideConsumers(this.options.jsm, this.options.names);
      for (const [remaining, { handlers }] of this.held) await this.listenNarrow(remaining, handlers);
      return;
    }
    const loops = this.narrow.get(partition);
    this.narrow.delete(partition);
    if (loops !== undefined) await stopLoops(loops);
  }

  async close(): Promise<void> {
    for (const { owner } of this.held.values()) await owner.stop();
    this.held.clear();
    for (const loops of [...this.narrow.values(), ...(this.wide === null ? [] : [this.wide])]) await stopLoops(loops);
    this.narrow.clear();
    this.wide = null;
  }

  private async listenNarrow(partition: number, handlers: TransportHandlers): Promise<void> {
    const { js, jsm, names, consumer } = this.options;
    await renewPartitionConsumers(jsm, names, partition, consumer);
    const loops = newLoops();
    this.narrow.set(partition, loops);
    await pump(js, names.streams.replies, names.partitionReplyConsumer(partition), loops, (msg) => this.options.onReply(msg, handlers));
    await pump(js, names.streams.starts, names.partitionStartConsumer(partition), loops, (msg) => this.options.onStart(msg, handlers));
  }

  private async goWide(): Promise<void> {
    const { js, jsm, names, consumer, partitions } = this.options;
    for (const loops of this.narrow.values()) await stopLoops(loops);
    this.narrow.clear();
    await renewWideConsumers(jsm, names, partitions, consumer);
    const loops = newLoops();
    this.wide = loops;
    /** A message's handlers, by the partition its subject ends with. */
    const route = (msg: JsMsg, handle: (msg: JsMsg, handlers: TransportHandlers) => Promise<void>): Promise<void> => {
      const handlers = this.handlersOf(Number(msg.subject.slice(msg.subject.lastIndexOf('.') + 1)));
      if (handlers !== undefined) return handle(msg, handlers);
      this.options.notHeld(msg);
      return Promise.resolve();
    };
    await pump(js, names.streams.replies, names.wideReplyConsumer, loops, (msg) => route(msg, this.options.onReply));
    await pump(js, names.streams.starts, names.wideStartConsumer, loops, (msg) => route(msg, this.options.onStart));
  }
}
