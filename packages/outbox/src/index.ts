/**
 * Transactional outbox for Sagaflow start requests: `outbox.start(tx, saga, input)` writes the
 * request inside the caller's SQLite or PostgreSQL transaction, so it exists if and only if that
 * transaction commits; a relay publishes it to NATS JetStream and marks it sent.
 */
export {
  defaultOutboxTable,
  OutboxRequestError,
  type EncodedRequest,
  type OutboxRow,
  type OutboxSagas,
  type OutboxStartOptions,
  type OutboxStore,
  type SagaRef,
} from './outbox-request.js';
export { createSqliteOutbox, type SqliteOutbox, type SqliteOutboxOptions } from './sqlite-outbox.js';
export { createPgOutbox, type PgOutbox, type PgOutboxOptions, type PgTransaction } from './pg-outbox.js';
export { createOutboxRelay, type OutboxRelay, type OutboxRelayEvent, type OutboxRelayOptions, type RelayRetry } from './relay.js';
