/**
 * The floor of a saga's latency at concurrency 1: the transport's own latency (the baseline's p50) plus
 * the saga's durable commits, each at the time a commit with its fsync takes on this machine. The
 * commit time is measured here, on the real SQLite store in the bench's directory (the disk the
 * engine's store is on), one append per commit with a pause between them, as at concurrency 1.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { openSqliteEventStore } from '@sagaflow/store-sqlite';
import { median } from './harness.js';
import { appendsOfSaga } from './saga-appends.js';

/** The measured commit time, and how many commits a saga of each workload makes. */
export interface CommitFloor {
  /** Median wall time of one commit (one append, `synchronous=FULL`), ms. */
  readonly commitMs: number;
  readonly commits: number;
  /** Commits (appends) per saga: one per input the engine decides. */
  readonly commitsPerSaga: Readonly<Record<string, number>>;
}

/** Measures the commit time with `commits` single-append commits (of whole sagas), a 1 ms pause after each. */
export async function measureCommitFloor(dir: string, workloads: readonly string[], commits = 200): Promise<CommitFloor> {
  const path = join(dir, 'commit-floor.db');
  const store = openSqliteEventStore(path);
  const took: number[] = [];
  try {
    for (let saga = 0; took.length < commits; saga++) {
      for (const request of appendsOfSaga(saga, saga % 2 === 1)) {
        const began = performance.now();
        await store.append(request);
        took.push(performance.now() - began);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }
  } finally {
    await store.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
  }
  const commitsPerSaga = Object.fromEntries(workloads.map((wl) => [wl, appendsOfSaga(0, wl === 'W2').length]));
  return { commitMs: Number(median(took).toFixed(3)), commits: took.length, commitsPerSaga };
}

/** The p50 floor of a workload at concurrency 1, ms: the baseline's p50 plus the saga's commits. */
export const floorOf = (floor: CommitFloor, workload: string, baselineP50: number): number => baselineP50 + (floor.commitsPerSaga[workload] ?? 0) * floor.commitMs;
