/**
 * Sagaflow in one dependency: the saga definition API, the worker SDK with its idempotency
 * barrier, the NATS connection, io-ts as `t`, and the `sagaflow` command.
 *
 * ```ts
 * import { saga, t } from 'sagaflow';
 * import { connectNats, createWorker, createSqliteBarrier, StepFailure } from 'sagaflow';
 * import { createMetricsRegistry, serveMetrics, createLogger } from 'sagaflow';   // a worker's /metrics and logs
 * ```
 *
 * Each name is the one of the `@sagaflow/*` package it comes from; install that package instead
 * for what this one leaves out (embedding the engine: `@sagaflow/engine`; the outbox:
 * `@sagaflow/outbox`; start requests from code: `@sagaflow/nats`).
 * @packageDocumentation
 */

/** io-ts, the codec library saga files declare their inputs, commands and replies with. */
export * as t from 'io-ts';

export {
  saga,
  SagaBuilder,
  StepFailure,
  isStepFailure,
  isTerminal,
  sagaStatuses,
  defaultTimeoutMs,
  type AnySagaDefinition,
  type AnyStep,
  type Codec,
  type CompensationSpec,
  type FlowItem,
  type MachineKit,
  type ParallelGroup,
  type RetryPolicy,
  type SagaContext,
  type SagaDefinition,
  type SagaOptions,
  type SagaStatus,
  type Step,
  type StepContext,
  type StepFailureOptions,
  type StepSpec,
} from '@sagaflow/core';

export {
  createLogger,
  createMetricsRegistry,
  createWorker,
  serveCheckBack,
  serveMetrics,
  MetricsServerError,
  type LogFields,
  type MetricsServer,
  type WorkerLog,
  type CheckBackOutcome,
  type CheckBackServer,
  type CheckBackServerOptions,
  type CompensationHandler,
  type ConsumerSettings,
  type EffectIdentity,
  type StepHandler,
  type Worker,
  type WorkerContext,
  type WorkerOptions,
} from '@sagaflow/worker';

export { connectNats, natsSettingsFromEnv, NatsUnavailableError, type NatsSettings } from '@sagaflow/nats';

export {
  barrierCodes,
  createPgBarrier,
  createSqliteBarrier,
  startMarkerKey,
  StartRolledBackError,
  type BarrierEffect,
  type Outcome,
  type PgBarrier,
  type PgBarrierOptions,
  type PgBusiness,
  type Queryable,
  type SqliteBarrier,
  type SqliteBarrierOptions,
  type SqliteBusiness,
} from '@sagaflow/barrier';
