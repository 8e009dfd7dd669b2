/**
 * SQLite adapter of the Sagaflow event store: one file, shared safely by several processes.
 * @packageDocumentation
 */
export { openSqliteEventStore, type SqliteEventStoreOptions } from './sqlite-event-store.js';
export { schemaVersion, sagaflowApplicationId } from './schema.js';
export { instancesTable, listingQuery, type ListingParams, type ListingQuery } from './instance-listing.js';
export { openThreadedSqliteEventStore } from './threaded-event-store.js';
export { switchToWal } from './connection.js';
