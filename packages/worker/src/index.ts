export { createWorker, type Worker, type WorkerOptions } from './create-worker.js';
export type { CompensationHandler, EffectIdentity, LogFields, WorkerContext, WorkerLog, StepHandler } from './handler.js';
export { StepFailure, isStepFailure } from '@sagaflow/core';
export type { ConsumerSettings } from '@sagaflow/nats';
export { serveCheckBack, type CheckBackOutcome, type CheckBackServer, type CheckBackServerOptions } from './check-back-server.js';
export { WorkerMetrics, type CommandLabels, type CommandOutcome } from './worker-metrics.js';
export { createLogger, createMetricsRegistry, serveMetrics, MetricsServerError, type MetricsServer, type MetricsServerOptions } from '@sagaflow/telemetry';
