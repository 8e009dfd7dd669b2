import { context, propagation } from '@opentelemetry/api';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import type { TraceHeaders } from '@sagaflow/core';

/** The W3C trace context headers a message may carry (the propagator decides which it writes). */
const traceHeaderNames = ['traceparent', 'tracestate'] as const;

/** The trace context a message carries, or `undefined` when it carries none. */
export function traceHeadersOf(h: MsgHdrs | undefined): TraceHeaders | undefined {
  if (h === undefined) return undefined;
  let found: Record<string, string> | undefined;
  for (const name of traceHeaderNames) {
    const value = h.get(name);
    if (value !== '') (found ??= {})[name] = value;
  }
  return found;
}

/** Writes a trace context into a message's headers (made when `h` is undefined and there is something to write). */
export function withTraceHeaders(h: MsgHdrs | undefined, trace: TraceHeaders | undefined): MsgHdrs | undefined {
  if (trace === undefined) return h;
  const entries = Object.entries(trace);
  if (entries.length === 0) return h;
  const out = h ?? natsHeaders();
  for (const [name, value] of entries) out.set(name, value);
  return out;
}

/**
 * The trace context of the code running now (the span of the request being served, say), through the
 * application's registered propagator; `undefined` without one, or outside any span.
 */
export function activeTraceHeaders(): TraceHeaders | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return Object.keys(carrier).length === 0 ? undefined : carrier;
}
