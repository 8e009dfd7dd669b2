import type { EventStoreDBClient } from '@eventstore/db-client';
import { followAll, type Feed } from './all-feed.js';
import { summaryOfEvent } from './event-codec.js';
import type { InstanceListing, ProjectedPosition } from './instance-listing.js';
import { instanceIdOf, streamPrefixOf } from './stream-names.js';

/** Pauses before subscribing again after the subscription failed: doubling from the first to the last. */
const firstRetryMs = 250;
const lastRetryMs = 5_000;

/**
 * Keeps the instance listing up to date from the log: a catch-up subscription to `$all`, filtered on the
 * instance streams' prefix, applying the listing row that the last event of each append carries in its
 * metadata, and recording its `$all` position with it, so that a restart resumes strictly after the last
 * event applied. What one turn of the event loop reads is applied together, in one SQLite transaction
 * (rows and position), and before the first catch-up is reported. Rows only move forward by revision, so
 * replaying an event, or applying a row the store already applied at append time, changes nothing.
 *
 * After the first catch-up it runs until stopped: when the subscription fails (server restart, network)
 * or the listing cannot be written, it subscribes again from the checkpoint, after a pause that doubles
 * up to 5 s.
 */
export class ListingProjection {
  private feed: Feed | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private pause = firstRetryMs;
  private stopped = false;
  private caughtUp = false;
  private settleStart: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  /** Read from the feed and not applied yet. */
  private pending: ProjectedPosition[] = [];
  private flushing: ReturnType<typeof setImmediate> | undefined;
  /** Subscriptions made so far (1 + resubscriptions). */
  subscriptions = 0;

  constructor(
    private readonly client: EventStoreDBClient,
    private readonly listing: InstanceListing,
    private readonly category: string,
  ) {}

  /** Subscribes; resolves at the first catch-up, rejects if the subscription fails before it. */
  start(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.settleStart = { resolve, reject };
      this.subscribe();
    });
  }

  /** Applies what was read, then ends the subscription. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    this.flush();
    await this.feed?.stop();
  }

  private subscribe(): void {
    if (this.stopped) return;
    this.subscriptions += 1;
    this.feed = followAll(this.client, streamPrefixOf(this.category), this.listing.checkpoint(), {
      event: (resolved) => {
        const event = resolved.event;
        if (event === undefined) return;
        const instanceId = instanceIdOf(this.category, event.streamId);
        this.read({ position: event.position, summary: instanceId === undefined ? undefined : summaryOfEvent(event, instanceId) });
      },
      checkpoint: (position) => this.read({ position }),
      caughtUp: () => {
        this.pause = firstRetryMs;
        if (this.caughtUp || !this.flush()) return;
        this.caughtUp = true;
        this.settleStart?.resolve();
      },
      failed: (error) => {
        if (this.flush()) this.failed(error);
      },
    });
  }

  private read(position: ProjectedPosition): void {
    this.pending.push(position);
    this.flushing ??= setImmediate(() => this.flush());
  }

  /**
   * Applies what was read. If the listing cannot be written, ends the subscription and fails as it would,
   * so that what was read is read again from the checkpoint. Returns whether it was applied.
   */
  private flush(): boolean {
    clearImmediate(this.flushing);
    this.flushing = undefined;
    const read = this.pending;
    this.pending = [];
    try {
      this.listing.applyAt(read);
      return true;
    } catch (error) {
      void this.feed?.stop();
      this.failed(error);
      return false;
    }
  }

  private failed(error: unknown): void {
    if (this.stopped) return;
    if (!this.caughtUp) {
      this.stopped = true;
      this.settleStart?.reject(error);
      return;
    }
    clearTimeout(this.retry);
    this.retry = setTimeout(() => this.subscribe(), this.pause);
    this.pause = Math.min(this.pause * 2, lastRetryMs);
  }
}
