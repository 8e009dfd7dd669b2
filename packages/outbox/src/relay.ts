import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { partitionOf } from '@sagaflow/core';
import { naming, readNamespaceConfig } from '@sagaflow/nats';
import type { OutboxRow, OutboxStore } from './outbox-request.js';

/** Backoff of a row whose publish failed: `initialDelayMs · multiplier^(attempts-1)`, capped, ±20 % jitter. */
export interface RelayRetry {
  readonly initialDelayMs?: number;
  readonly multiplier?: number;
  readonly maxDelayMs?: number;
}

/** What the relay reports: every publish, every failure (with when it tries again), and its own life. */
export type OutboxRelayEvent =
  | { readonly type: 'started' | 'stopped'; readonly level: 'info'; readonly message: string }
  | { readonly type: 'published'; readonly level: 'info'; readonly message: string; readonly row: OutboxRow }
  | { readonly type: 'publishFailed'; readonly level: 'warn'; readonly message: string; readonly row: OutboxRow; readonly error: string; readonly retryInMs: number }
  | { readonly type: 'pollFailed'; readonly level: 'error'; readonly message: string; readonly error: string };

/** Options of {@link createOutboxRelay}. */
export interface OutboxRelayOptions {
  /** The outbox to relay (`createSqliteOutbox` or `createPgOutbox`). */
  readonly store: OutboxStore;
  /** NATS connection to publish on (the relay does not close it). */
  readonly connection: NatsConnection;
  /** Subject namespace, as the engine's (default `sagaflow`). */
  readonly namespace?: string;
  /** Rows claimed per pass (default 100). */
  readonly batchSize?: number;
  /** Pause between passes when nothing was due (default 200 ms). */
  readonly pollIntervalMs?: number;
  /** How long a publish waits for JetStream's acknowledgement (default 5000 ms). */
  readonly publishTimeoutMs?: number;
  /** How long a claimed row is held by this relay before another may take it (default 30 s: longer than a publish). */
  readonly leaseMs?: number;
  readonly retry?: RelayRetry;
  /** Progress and errors (default: warnings and errors to stderr). */
  readonly log?: (event: OutboxRelayEvent) => void;
}

/** A running relay. */
export interface OutboxRelay {
  /** Runs one pass now (besides the polling): publishes what is due; resolves with what it did. */
  runOnce(): Promise<{ readonly published: number; readonly failed: number }>;
  /** Totals since the relay started. */
  readonly stats: { readonly published: number; readonly failed: number };
  /** Stops polling, lets the publish in progress finish, hands back rows it claimed but did not publish; resolves when done. */
  stop(): Promise<void>;
}

const defaultLog = (event: OutboxRelayEvent): void => {
  if (event.level !== 'info') process.stderr.write(`sagaflow outbox: ${event.message}\n`);
};

/**
 * Publishes the outbox's pending start requests to `<ns>.start.<saga>.<partition>` with their `Nats-Msg-Id`
 * (`<kind>:<instance id>`), oldest first, and marks each sent once JetStream has stored it. A
 * failed publish is retried with backoff; a request published again after a crash (stored, not yet
 * marked) is dropped by JetStream's dedup within its window, and a later repeat is a no-op for the
 * engine (the instance exists). A failure holds back the later requests of the same instance, so
 * a prepare is never overtaken by its confirm.
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { store } = options;
  const names = naming(options.namespace);
  const js = jetstream(options.connection);
  const batchSize = options.batchSize ?? 100;
  const pollIntervalMs = options.pollIntervalMs ?? 200;
  const publishTimeoutMs = options.publishTimeoutMs ?? 5_000;
  const leaseMs = options.leaseMs ?? 30_000;
  const retry = { initialDelayMs: 500, multiplier: 2, maxDelayMs: 30_000, ...options.retry };
  const log = options.log ?? defaultLog;
  const stats = { published: 0, failed: 0 };
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let passing: Promise<{ published: number; failed: number }> | undefined;

  const backoff = (attempts: number): number => {
    const base = Math.min(retry.maxDelayMs, retry.initialDelayMs * retry.multiplier ** Math.max(0, attempts - 1));
    return Math.round(base * (0.8 + Math.random() * 0.4));
  };

  /** The row's subject: its partition's (the namespace's partition count is read once), or none for a namespace without partitions. */
  const subjectOf = async (row: OutboxRow): Promise<string> => {
    const config = await readNamespaceConfig(js, names);
    return config === null ? names.start(row.saga) : names.start(row.saga, partitionOf(row.instanceId, config.partitions));
  };

  const publish = async (row: OutboxRow): Promise<string> => {
    const subject = await subjectOf(row);
    await js.publish(subject, row.body, { msgID: row.msgId, timeout: publishTimeoutMs });
    return subject;
  };

  const pass = async (): Promise<{ published: number; failed: number }> => {
    const done = { published: 0, failed: 0 };
    const rows = await store.claim(batchSize, Date.now(), leaseMs);
    const heldBack = new Map<string, number>();
    for (const [index, row] of rows.entries()) {
      if (stopped) {
        await store.reschedule(
          rows.slice(index).map((r) => r.id),
          Date.now(),
        );
        break;
      }
      const held = heldBack.get(row.instanceId);
      if (held !== undefined) {
        await store.reschedule([row.id], held);
        continue;
      }
      try {
        const subject = await publish(row);
        await store.markSent(row.id, Date.now());
        done.published++;
        stats.published++;
        log({ type: 'published', level: 'info', message: `published ${row.msgId} to ${subject} (attempt ${row.attempts + 1})`, row });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        const retryInMs = backoff(row.attempts + 1);
        const at = Date.now() + retryInMs;
        heldBack.set(row.instanceId, at);
        await store.markFailed(row.id, reason, at);
        done.failed++;
        stats.failed++;
        log({
          type: 'publishFailed',
          level: 'warn',
          message: `publish of ${row.msgId} failed (attempt ${row.attempts + 1}), trying again in ${retryInMs} ms: ${reason}`,
          row,
          error: reason,
          retryInMs,
        });
      }
    }
    return done;
  };

  /** One pass at a time: a pass asked for while one runs waits for it, then runs. */
  const runOnce = (): Promise<{ published: number; failed: number }> => {
    const previous = passing ?? Promise.resolve({ published: 0, failed: 0 });
    const next = previous.catch(() => undefined).then(pass);
    passing = next;
    void next.finally(() => {
      if (passing === next) passing = undefined;
    }).catch(() => undefined);
    return next;
  };

  const loop = (): void => {
    if (stopped) return;
    runOnce().then(
      (done) => {
        if (stopped) return;
        // A full batch means more may be due: go on at once.
        timer = setTimeout(loop, done.published + done.failed >= batchSize ? 0 : pollIntervalMs);
      },
      (error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        log({ type: 'pollFailed', level: 'error', message: `reading the outbox ${store.table} failed, trying again in ${retry.initialDelayMs} ms: ${reason}`, error: reason });
        if (!stopped) timer = setTimeout(loop, retry.initialDelayMs);
      },
    );
  };

  log({ type: 'started', level: 'info', message: `relaying ${store.table} to ${names.namespace}.start.*` });
  loop();

  return {
    runOnce,
    stats,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      await passing?.catch(() => undefined);
      log({ type: 'stopped', level: 'info', message: `stopped relaying ${store.table} (${stats.published} published, ${stats.failed} failed publishes)` });
    },
  };
}
