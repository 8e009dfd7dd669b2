/**
 * Preloaded (`node --import`) into the engine and the worker by `npm run bench -- --telemetry …` for
 * the `traces-noop` variant: an OpenTelemetry SDK records every span (batch processor included) and
 * its exporter drops them, so the cost measured is the spans' own, without an exporter's I/O.
 */
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

/** @type {import('@opentelemetry/sdk-trace-node').SpanExporter} */
const dropping = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: () => Promise.resolve(),
};
new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(dropping)] }).register();
