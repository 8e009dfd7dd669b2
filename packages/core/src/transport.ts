import type { Either } from 'fp-ts/lib/Either.js';
import type { ReplyOutcome } from './decider.js';
import type { CheckBackEffect, DispatchEffect } from './effects.js';
import type { SagaError } from './errors.js';
import type { InstanceSummary } from './event-store.js';
import type { InterventionAction } from './saga-context.js';

/** A worker's answer to a dispatched effect. */
export interface Reply {
  readonly instanceId: string;
  readonly effectId: string;
  readonly outcome: ReplyOutcome;
}

/**
 * The W3C trace context (`traceparent`, `tracestate`) a message carries: the span it continues. Opaque
 * to the core; the engine's tracing reads and writes it through OpenTelemetry's propagation API.
 */
export type TraceHeaders = Readonly<Record<string, string>>;

/** What became of a reply: recorded (or stale), or refused as undecodable with a reason for the dead letters. */
export type ReplyVerdict = { readonly accepted: true } | { readonly accepted: false; readonly reason: string };

/** An effect that could not be delivered, or whose reply could not be used. */
export interface DeadLetterNotice {
  readonly instanceId: string;
  readonly effectId: string;
  readonly reason: string;
}

/**
 * A request about an instance's start, from a client in another process: start it (now, or at
 * `startAt`), prepare it (two-phase start), or confirm or cancel a prepared one.
 */
export type StartRequest =
  | { readonly kind?: 'start'; readonly saga: string; readonly instanceId: string; readonly input: unknown; readonly startAt?: number; readonly trace?: TraceHeaders }
  | { readonly kind: 'prepare'; readonly saga: string; readonly instanceId: string; readonly input: unknown; readonly trace?: TraceHeaders }
  | { readonly kind: 'confirm'; readonly saga: string; readonly instanceId: string; readonly by?: string }
  | { readonly kind: 'cancel'; readonly saga: string; readonly instanceId: string; readonly by?: string; readonly reason?: string };

/** An operator's intervention on an instance, as its engine receives it. */
export interface Intervention {
  readonly instanceId: string;
  readonly action: InterventionAction;
  readonly by: string;
  readonly reason: string;
  readonly step?: string;
}

/** The upstream's answer to a check-back; `null` when it did not answer. */
export type CheckBackAnswer = 'committed' | 'rolledBack' | null;

/**
 * What a transport delivers to the engine. Each promise settles once the consequences are durably
 * recorded, so the transport acknowledges the message only then (and redelivers it otherwise).
 */
export interface TransportHandlers {
  readonly reply: (reply: Reply) => Promise<ReplyVerdict>;
  readonly deadLetter: (notice: DeadLetterNotice) => Promise<void>;
  /** Starts an instance; accepted also when it already exists (a repeated request), refused for bad input. */
  readonly start: (request: StartRequest) => Promise<ReplyVerdict>;
  /** Records an operator's intervention (a transport that routes them to the instance's engine calls it). */
  readonly intervene?: (intervention: Intervention) => Promise<Either<SagaError, InstanceSummary>>;
}

/** The transport port: how the engine reaches workers and hears back from them. */
export interface Transport {
  /**
   * Hands a command to the transport; resolves once the transport has accepted it durably. `trace`: the
   * context of the attempt's span, for the command's headers (the worker's span continues it).
   */
  dispatch(effect: DispatchEffect, trace?: TraceHeaders): Promise<void>;
  /** Starts delivering replies and dead letters. */
  listen(handlers: TransportHandlers): Promise<void>;
  /** Asks a pending instance's upstream whether its local transaction committed. */
  checkBack?(effect: CheckBackEffect): Promise<CheckBackAnswer>;
  /** Tells interested parties an instance changed status (best effort, after the change is recorded). */
  announce?(summary: InstanceSummary): void;
  close(): Promise<void>;
}
