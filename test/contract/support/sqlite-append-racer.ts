/**
 * A process appending to a shared SQLite event store as fast as it can, for the two-process race test.
 * Usage: `node --import tsx sqlite-append-racer.ts <path> <name> <id,id,...> <rounds> <startAtEpochMs>`.
 * Each round, for each instance: read the stream, append one event at its last revision. Prints a
 * {@link RacerReport}; any failure other than a lost race exits non-zero.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeEvent, noStream, WrongExpectedRevisionError } from '@sagaflow/core';
import { openSqliteEventStore } from '@sagaflow/store-sqlite';

/** What a racer did. */
export interface RacerReport {
  readonly name: string;
  readonly wins: number;
  readonly conflicts: number;
}

async function race(path: string, name: string, instances: readonly string[], rounds: number, startAt: number): Promise<RacerReport> {
  await sleep(Math.max(0, startAt - Date.now()));
  // Both processes open (and so create) the file at the same moment.
  const store = openSqliteEventStore(path);
  let wins = 0;
  let conflicts = 0;
  try {
    for (let round = 0; round < rounds; round += 1) {
      for (const instanceId of instances) {
        const expectedRevision = (await store.readStream(instanceId)).at(-1)?.revision ?? noStream;
        const revision = expectedRevision + 1;
        const at = Date.now();
        const event =
          expectedRevision === noStream
            ? encodeEvent({ type: 'SagaStarted', at, state: 'racing', status: 'running', saga: 'race', sagaVersion: 1, instanceId, input: { by: name } })
            : encodeEvent({ type: 'TimerFired', at, state: 'racing', status: 'running', timerId: `${name}-${round}` });
        try {
          await store.append({
            instanceId,
            expectedRevision,
            events: [event],
            summary: { instanceId, saga: 'race', version: 1, status: 'running', state: '"racing"', currentStep: name, attempts: round, revision, startedAt: at, updatedAt: at },
          });
          wins += 1;
        } catch (error) {
          if (!(error instanceof WrongExpectedRevisionError)) throw error;
          conflicts += 1;
        }
      }
    }
  } finally {
    await store.close();
  }
  return { name, wins, conflicts };
}

const [path, name, ids, rounds, startAt] = process.argv.slice(2);
if (path === undefined || name === undefined || ids === undefined || rounds === undefined || startAt === undefined) {
  throw new Error('usage: sqlite-append-racer <path> <name> <id,id,...> <rounds> <startAtEpochMs>');
}
process.stdout.write(JSON.stringify(await race(path, name, ids.split(','), Number(rounds), Number(startAt))));
