/**
 * Telemetry shared by the Sagaflow engine and workers: the HTTP server for `/metrics`, `/healthz` and
 * `/readyz`, a prom-client registry with the process metrics, and the structured (pino) logger.
 * Metric names and span attributes are listed in docs/observability.md.
 */
export { serveMetrics, MetricsServerError, type MetricsServer, type MetricsServerOptions } from './metrics-server.js';
export { createMetricsRegistry, latencyBuckets } from './registry.js';
export { createLogger, isLogLevel, logLevels, type LogFields, type LoggerOptions, type LogLevel, type StructuredLog } from './logger.js';
