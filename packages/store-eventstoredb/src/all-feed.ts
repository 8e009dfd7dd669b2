import { START, streamNameFilter, type AllStreamResolvedEvent, type EventStoreDBClient, type Position } from '@eventstore/db-client';

/** What a feed of `$all` calls, always in the order the server sent things. */
export interface FeedHandlers {
  /** An event of a stream whose name starts with the prefix. A throw ends the feed through `failed`. */
  readonly event: (resolved: AllStreamResolvedEvent) => void;
  /** The server's filter checkpoint: it searched `$all` up to `position` (every earlier event was handed to `event`). */
  readonly checkpoint?: (position: Position) => void;
  /** Every event that was in `$all` when the subscription started has been handed to `event`. */
  readonly caughtUp: () => void;
  /** The subscription failed or ended; nothing more is called. */
  readonly failed: (error: unknown) => void;
}

/** A running feed. */
export interface Feed {
  /** Ends the subscription; nothing more is called. */
  stop(): Promise<void>;
}

/**
 * Follows `$all` strictly after `from` (null: from the start) through a catch-up subscription filtered on
 * the stream-name prefix, so the server skips every other stream. Checkpoints come every 32 events the
 * server searched (its default window), which lets a follower record progress through long stretches of
 * other streams' events.
 *
 * The client hands events over through a Node stream while it emits `caughtUp` and calls the checkpoint
 * callback as soon as it decodes them, possibly while earlier events still wait in the stream's buffer.
 * So a checkpoint is passed on only when nothing waits, and caught-up once the buffer has drained.
 */
export function followAll(client: EventStoreDBClient, prefix: string, from: Position | null, handlers: FeedHandlers): Feed {
  let stopped = false;
  let caughtUpPending = false;
  const subscription = client.subscribeToAll({
    fromPosition: from ?? START,
    filter: streamNameFilter({
      prefixes: [prefix],
      checkpointInterval: 1,
      checkpointReached: (_subscription, position) => {
        if (!stopped && subscription.readableLength === 0) handlers.checkpoint?.(position);
      },
    }),
  });
  const end = (): void => {
    stopped = true;
    subscription.unsubscribe().catch(() => undefined);
  };
  const fail = (error: unknown): void => {
    if (stopped) return;
    end();
    handlers.failed(error);
  };
  subscription.on('data', (resolved: AllStreamResolvedEvent) => {
    if (stopped) return;
    try {
      handlers.event(resolved);
    } catch (error) {
      fail(error);
      return;
    }
    if (caughtUpPending && !stopped && subscription.readableLength === 0) {
      caughtUpPending = false;
      handlers.caughtUp();
    }
  });
  subscription.on('caughtUp', () => {
    if (stopped) return;
    if (subscription.readableLength === 0) handlers.caughtUp();
    else caughtUpPending = true;
  });
  subscription.on('error', fail);
  subscription.on('close', () => fail(new Error('the subscription to $all ended')));
  return {
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await subscription.unsubscribe().catch(() => undefined);
    },
  };
}
