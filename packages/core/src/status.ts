/**
 * Lifecycle status of a saga instance.
 * `pending` and `cancelled` belong to two-phase start; the others to execution.
 */
export const sagaStatuses = ['pending', 'running', 'compensating', 'completed', 'compensated', 'cancelled', 'stuck'] as const;

/** One of {@link sagaStatuses}. */
export type SagaStatus = (typeof sagaStatuses)[number];

/** Statuses from which an instance never moves again. */
export const terminalStatuses: ReadonlySet<SagaStatus> = new Set(['completed', 'compensated', 'cancelled']);

/** Whether an instance in this status is finished for good. */
export const isTerminal = (status: SagaStatus): boolean => terminalStatuses.has(status);

/** Whether a string names a status. */
export const isSagaStatus = (value: string): value is SagaStatus => (sagaStatuses as readonly string[]).includes(value);
