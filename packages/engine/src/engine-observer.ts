import type { InstanceState, SagaEvent } from '@sagaflow/core';

/**
 * What an engine reports as it works, for metrics and traces. Every method is called on the engine's
 * thread right after the fact, so it must be cheap and must not throw; an observer that needs I/O
 * queues it. `committed` sees exactly what the store holds: the events of one input, in order.
 */
export interface EngineObserver {
  /** The events an input led to are in the store: `before` is the instance before them (`null` if new), `after` after. */
  committed(before: InstanceState | null, after: InstanceState, events: readonly SagaEvent[]): void;
  /** One store commit of `appends` appends (several instances' inputs) took `seconds`. */
  storeCommitted?(seconds: number, appends: number): void;
  /** An append was refused for its expected revision (another writer was first); the input is decided again. */
  appendConflict?(): void;
}
