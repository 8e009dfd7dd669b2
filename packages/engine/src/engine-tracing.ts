import {
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { effectId, type DispatchEffect, type InstanceState, type SagaEvent, type SagaTrace, type TraceHeaders } from '@sagaflow/core';
import type { EngineObserver } from './engine-observer.js';

/** Spans kept open at most (instances and attempts in flight); past it the oldest are ended as they are. */
const maxOpen = 100_000;

/**
 * The engine's spans, through the OpenTelemetry API only (no SDK: without one registered by the
 * application, every span is a no-op and nothing is recorded in the events).
 *
 * - `saga <name>`: one per instance, from its start to its final status; a child of the span of the
 *   request that started it (the W3C trace context in the start request's headers). Its ids are
 *   recorded in the start event, so `sagaflow show` prints the trace id and every later step, in
 *   any engine, joins the same trace.
 * - `step <name>` / `compensate <name>`: one per attempt, a child of the saga span, from dispatch to
 *   reply, timeout or dead letter; its context goes in the command's headers, where the worker's span
 *   continues it. Retries are sibling attempts.
 *
 * A span lives in the memory of the engine that began it. An instance or attempt that another engine
 * began (after a restart or a handover) gets a span of its own here, marked `sagaflow.resumed`,
 * still in the instance's trace.
 */
export class EngineTracing implements EngineObserver {
  private readonly sagas = new Map<string, Span>();
  /** Saga spans begun for a start whose decision has not been committed yet. */
  private readonly starting = new Set<string>();
  private readonly attempts = new Map<string, Span>();

  constructor(private readonly tracer: Tracer = trace.getTracer('@sagaflow/engine')) {}

  /**
   * Begins the span of an instance about to be started or prepared, under the trace context of its
   * request (if any); its ids go into the start event. `undefined` when nothing is traced.
   */
  beginSaga(saga: string, instanceId: string, parent?: TraceHeaders): SagaTrace | undefined {
    const parentContext = parent === undefined ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, parent);
    const parentSpan = trace.getSpanContext(parentContext);
    const span = this.tracer.startSpan(`saga ${saga}`, { kind: SpanKind.INTERNAL, attributes: { 'sagaflow.saga': saga, 'sagaflow.instance_id': instanceId } }, parentContext);
    const ids = span.spanContext();
    // A no-op tracer hands back the parent's own context: there is no span of ours to record.
    if (!isSpanContextValid(ids) || ids.spanId === parentSpan?.spanId) {
      span.end();
      return undefined;
    }
    this.keep(this.sagas, instanceId, span);
    this.starting.add(instanceId);
    return { traceId: ids.traceId, spanId: ids.spanId };
  }

  /** The start's input was decided: a saga span begun for a start that recorded nothing (the instance existed, the input was refused) ends here. */
  settleStart(instanceId: string, refusal?: string): void {
    if (!this.starting.delete(instanceId)) return;
    const span = this.sagas.get(instanceId);
    this.sagas.delete(instanceId);
    span?.setAttribute('sagaflow.start_recorded', false);
    if (refusal !== undefined) span?.setStatus({ code: SpanStatusCode.ERROR, message: refusal });
    span?.end();
  }

  /** The trace context for the command of `effect`: its attempt's span, begun here if another engine dispatched it first. */
  headersFor(effect: DispatchEffect, state: InstanceState | undefined): TraceHeaders | undefined {
    let span = this.attempts.get(effect.id);
    if (span === undefined) {
      if (state?.trace === undefined) return undefined;
      span = this.beginAttempt(state, effect.step, effect.kind, effect.attempt, effect.id, Date.now(), true);
    }
    const headers: Record<string, string> = {};
    propagation.inject(trace.setSpan(ROOT_CONTEXT, span), headers);
    return headers;
  }

  committed(_before: InstanceState | null, after: InstanceState, events: readonly SagaEvent[]): void {
    if (after.trace === undefined) return;
    const { instanceId } = after;
    for (const event of events) {
      switch (event.type) {
        case 'SagaStarted':
        case 'SagaPrepared':
          this.starting.delete(instanceId);
          break;
        case 'StepDispatched':
        case 'CompensationDispatched':
          this.beginAttempt(after, event.step, event.type === 'StepDispatched' ? 'action' : 'compensation', event.attempt, event.effectId, event.at, false);
          break;
        case 'StepSucceeded':
        case 'CompensationSucceeded':
          this.endAttempt(event.effectId, event.at);
          break;
        case 'StepFailed':
        case 'CompensationFailed':
          this.endAttempt(event.effectId, event.at, `${event.error.code}: ${event.error.message}`, event.error.code);
          break;
        case 'StepTimedOut':
        case 'CompensationTimedOut':
          this.endAttempt(effectId(instanceId, event.step, event.type === 'StepTimedOut' ? 'action' : 'compensation', event.attempt), event.at, 'timed out', 'Timeout');
          break;
        case 'EffectDeadLettered':
          this.endAttempt(event.effectId, event.at, `dead-lettered: ${event.reason}`, 'DeadLettered');
          break;
        case 'SagaStuck':
          this.sagas.get(instanceId)?.addEvent('stuck', { 'sagaflow.step': event.step }, event.at);
          break;
        case 'OperatorIntervened':
          this.sagas.get(instanceId)?.addEvent(`operator ${event.action}`, { 'sagaflow.by': event.by, 'sagaflow.reason': event.reason }, event.at);
          break;
        case 'SagaCompleted':
          this.endSaga(after, event.at, 'completed');
          break;
        case 'SagaCompensated':
          this.endSaga(after, event.at, 'compensated', event.failure === null ? 'compensated' : `compensated after ${event.failure.step} failed: ${event.failure.code}: ${event.failure.message}`);
          break;
        case 'SagaCancelled':
          this.endSaga(after, event.at, 'cancelled');
          break;
        default:
          break;
      }
    }
  }

  private sagaContext(state: InstanceState & { readonly trace: SagaTrace }): Context {
    const span = this.sagas.get(state.instanceId);
    if (span !== undefined) return trace.setSpan(ROOT_CONTEXT, span);
    return recordedContext(state.trace);
  }

  private beginAttempt(state: InstanceState, step: string, kind: 'action' | 'compensation', attempt: number, id: string, at: number, resumed: boolean): Span {
    const withTrace = state as InstanceState & { readonly trace: SagaTrace };
    const span = this.tracer.startSpan(
      `${kind === 'action' ? 'step' : 'compensate'} ${step}`,
      {
        kind: SpanKind.PRODUCER,
        startTime: at,
        attributes: {
          'sagaflow.saga': state.definition.name,
          'sagaflow.instance_id': state.instanceId,
          'sagaflow.step': step,
          'sagaflow.kind': kind,
          'sagaflow.attempt': attempt,
          'sagaflow.effect_id': id,
          'messaging.system': 'nats',
          ...(resumed ? { 'sagaflow.resumed': true } : {}),
        },
      },
      this.sagaContext(withTrace),
    );
    this.keep(this.attempts, id, span);
    return span;
  }

  private endAttempt(id: string, at: number, failure?: string, code?: string): void {
    const span = this.attempts.get(id);
    if (span === undefined) return;
    this.attempts.delete(id);
    if (failure !== undefined) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: failure });
      if (code !== undefined) span.setAttribute('sagaflow.error_code', code);
    }
    span.end(at);
  }

  private endSaga(state: InstanceState, at: number, status: string, failure?: string): void {
    let span = this.sagas.get(state.instanceId);
    this.sagas.delete(state.instanceId);
    if (span === undefined && state.trace !== undefined) {
      // Begun by another engine: this one closes the instance with a span of its own, in the same trace.
      span = this.tracer.startSpan(
        `saga ${state.definition.name}`,
        { startTime: state.startedAt, attributes: { 'sagaflow.saga': state.definition.name, 'sagaflow.instance_id': state.instanceId, 'sagaflow.resumed': true } },
        recordedContext(state.trace),
      );
    }
    if (span === undefined) return;
    span.setAttribute('sagaflow.status', status);
    if (failure !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: failure });
    else if (status === 'completed') span.setStatus({ code: SpanStatusCode.OK });
    span.end(at);
  }

  private keep(spans: Map<string, Span>, key: string, span: Span): void {
    if (spans.size >= maxOpen) {
      const [oldestKey, oldest] = spans.entries().next().value as [string, Span];
      spans.delete(oldestKey);
      oldest.setAttribute('sagaflow.truncated', true);
      oldest.end();
    }
    spans.set(key, span);
  }
}

/** The instance's span as its first event recorded it, as the parent of spans begun in another process or later. */
const recordedContext = (recorded: SagaTrace): Context =>
  trace.setSpanContext(ROOT_CONTEXT, { traceId: recorded.traceId, spanId: recorded.spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true });
