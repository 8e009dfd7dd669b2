/**
 * EventStoreDB adapter of the Sagaflow event store: one stream per saga instance, appends with the expected
 * revision, `$all` subscriptions for the global order, and the instance listing as a local read model.
 * @packageDocumentation
 */
export { openEventStoreDbStore, type EventStoreDbStore, type EventStoreDbStoreOptions } from './esdb-event-store.js';
export { maskConnectionString } from './connection.js';
export { defaultCategory, instanceIdOf, streamNameOf } from './stream-names.js';
export { listingApplicationId, listingSchemaVersion } from './instance-listing.js';
export type { SagaflowMetadata } from './event-codec.js';
