import type { CheckBackAnswer, CheckBackEffect, DispatchEffect, Reply, ReplyOutcome, Transport, TransportHandlers } from '@sagaflow/core';

/** A step implementation living in the engine's process. */
export type InProcessHandler = (effect: DispatchEffect) => Promise<ReplyOutcome>;

/** Answers a check-back for a saga's pending instance from the upstream's own records (e.g. the barrier's `checkBack`). */
export type InProcessCheckBack = (instanceId: string) => Promise<Exclude<CheckBackAnswer, null>> | Exclude<CheckBackAnswer, null>;

/** The in-process transport, with the operations (`step` or compensation names) it can run. */
export interface InProcessTransport extends Transport {
  /** Registers the handler of an operation. */
  register(operation: string, handler: InProcessHandler): void;
  /** Registers how check-backs of a saga's pending (two-phase) instances are answered; a throw counts as no answer. */
  registerCheckBack(saga: string, check: InProcessCheckBack): void;
  checkBack(effect: CheckBackEffect): Promise<CheckBackAnswer>;
}

/**
 * Runs step handlers in the engine's own process, asynchronously, with at-least-once replies:
 * a reply the engine fails to record is offered again after `redeliveryDelayMs`.
 * For tests and single-process use; workers in other processes use a broker transport.
 */
export function createInProcessTransport(options: { readonly redeliveryDelayMs?: number } = {}): InProcessTransport {
  const handlers = new Map<string, InProcessHandler>();
  const checks = new Map<string, InProcessCheckBack>();
  const redeliveryDelayMs = options.redeliveryDelayMs ?? 200;
  let listener: TransportHandlers | null = null;
  /** Replies that arrived before anyone listened: kept, never dropped. */
  const unheard: Reply[] = [];
  let closed = false;
  const pending = new Set<ReturnType<typeof setTimeout>>();

  const later = (fn: () => void, ms: number): void => {
    const timer = setTimeout(() => {
      pending.delete(timer);
      if (!closed) fn();
    }, ms);
    pending.add(timer);
  };

  const deliver = (reply: Reply): void => {
    if (closed) return;
    if (listener === null) {
      unheard.push(reply);
      return;
    }
    listener.reply(reply).catch(() => later(() => deliver(reply), redeliveryDelayMs));
  };

  const run = async (effect: DispatchEffect, handler: InProcessHandler): Promise<void> => {
    let outcome: ReplyOutcome;
    try {
      outcome = await handler(effect);
    } catch (error) {
      outcome = { ok: false, error: { code: 'HandlerError', message: error instanceof Error ? error.message : String(error) } };
    }
    deliver({ instanceId: effect.instanceId, effectId: effect.id, outcome });
  };

  return {
    register(operation, handler) {
      if (handlers.has(operation)) throw new Error(`Operation "${operation}" already has a handler`);
      handlers.set(operation, handler);
    },
    registerCheckBack(saga, check) {
      if (checks.has(saga)) throw new Error(`Saga "${saga}" already has a check-back`);
      checks.set(saga, check);
    },
    async checkBack(effect) {
      const check = checks.get(effect.saga);
      if (check === undefined || closed) return null;
      try {
        return await check(effect.instanceId);
      } catch {
        return null;
      }
    },
    dispatch(effect) {
      if (closed) return Promise.reject(new Error('In-process transport is closed'));
      const handler = handlers.get(effect.operation);
      if (handler === undefined) return Promise.reject(new Error(`No handler registered for operation "${effect.operation}"`));
      setImmediate(() => void run(effect, handler));
      return Promise.resolve();
    },
    listen(given) {
      listener = given;
      for (const reply of unheard.splice(0)) deliver(reply);
      return Promise.resolve();
    },
    close() {
      closed = true;
      for (const timer of pending) clearTimeout(timer);
      pending.clear();
      return Promise.resolve();
    },
  };
}
