import type Database from 'better-sqlite3';
import type { AppendRequest } from '@sagaflow/core';

/** Appends of up to this many events go in one statement; longer ones in several. */
const rowsPerStatement = 8;

/**
 * Inserts an append's events, numbered from `firstRevision` in the instance's `stream` (its number in the
 * listing), with as few statements as possible: one multi-row `INSERT` per up to {@link rowsPerStatement}
 * events (a statement prepared once per row count), instead of one statement per event. Returns the
 * position of the last event.
 */
export function eventInserts(db: Database.Database): (stream: number, instanceId: string, firstRevision: number, events: AppendRequest['events'], recordedAt: number) => number {
  const statements: Database.Statement<unknown[]>[] = [];
  const statementFor = (rows: number): Database.Statement<unknown[]> => {
    let statement = statements[rows];
    if (statement === undefined) {
      const values = Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?)').join(', ');
      statement = db.prepare<unknown[]>(`INSERT INTO events (stream, instance_id, revision, type, json, recorded_at) VALUES ${values}`);
      statements[rows] = statement;
    }
    return statement;
  };
  return (stream, instanceId, firstRevision, events, recordedAt) => {
    let position = 0;
    for (let from = 0; from < events.length; from += rowsPerStatement) {
      const rows = Math.min(rowsPerStatement, events.length - from);
      const params: unknown[] = new Array(rows * 6);
      for (let row = 0, at = 0; row < rows; row++) {
        const event = events[from + row] as AppendRequest['events'][number];
        params[at++] = stream;
        params[at++] = instanceId;
        params[at++] = firstRevision + from + row;
        params[at++] = event.type;
        params[at++] = event.json;
        params[at++] = recordedAt;
      }
      position = Number(statementFor(rows).run(params).lastInsertRowid);
    }
    return position;
  };
}
