/**
 * Idempotency barrier for Sagaflow workers: each operation is guarded by a row keyed by the
 * effect's idempotency key, written in the same local transaction as the business change.
 */
export { forwardKeyOf, type BarrierEffect, type EffectKind } from './barrier-key.js';
export { barrierCodes, type Outcome } from './outcome.js';
export { createPgBarrier, type PgBarrier, type PgBarrierOptions, type PgBusiness, type Queryable } from './pg-barrier.js';
export { startMarkerKey, StartRolledBackError, type CheckBackOutcome } from './start-marker.js';
export { createSqliteBarrier, type SqliteBarrier, type SqliteBarrierOptions, type SqliteBusiness } from './sqlite-barrier.js';
export { StepFailure, isStepFailure, type StepFailureOptions } from '@sagaflow/core';
export { defaultBarrierTable } from './table-name.js';
