import type { DispatchEffect, ReplyOutcome } from '@sagaflow/core';

/** A worker's answer to a dispatched effect. */
export interface Reply {
  readonly instanceId: string;
  readonly effectId: string;
  readonly outcome: ReplyOutcome;
}

/**
 * Handles a reply. The promise settles once the reply's consequences are durably recorded,
 * so a transport acknowledges the reply only then (and redelivers it otherwise).
 */
export type ReplyHandler = (reply: Reply) => Promise<void>;

/** The transport port: how the engine reaches workers and hears back from them. */
export interface Transport {
  /** Hands a command to the transport; resolves once the transport has accepted it durably. */
  dispatch(effect: DispatchEffect): Promise<void>;
  /** Starts delivering replies to `handler`. */
  listen(handler: ReplyHandler): Promise<void>;
  close(): Promise<void>;
}
