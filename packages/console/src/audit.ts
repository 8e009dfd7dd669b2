import type { ConsoleContext } from './context.js';

/** A change made from the console that is not an event of an instance (a dead letter replayed or discarded). */
export interface AuditRecord {
  readonly action: string;
  readonly by: string;
  readonly reason: string;
  readonly [field: string]: unknown;
}

/**
 * Records a change in the namespace's events stream (`<ns>.evt._console.<action>`, kept 7 days with the
 * instances' status changes), best effort, after the change is made. Repairs of instances need none:
 * the engine records them as `OperatorIntervened` events of the instance.
 */
export function audit(context: ConsoleContext, record: AuditRecord): void {
  try {
    context.connection.publish(`${context.names.namespace}.evt._console.${record.action}`, JSON.stringify({ ...record, at: new Date().toISOString() }));
  } catch {
    // the change is made; its audit line is lost with the connection
  }
}
