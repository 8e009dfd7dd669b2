/** A large store for the listing benches (`--only list`, `--only console`): many instances of a realistic spread, written fast. */
import { encodeEvent, type AppendRequest, type SagaEvent, type SagaStatus } from '@sagaflow/core';
import { openSqliteEventStore } from '@sagaflow/store-sqlite';

const day = 86_400_000;

/** A deterministic spread: 80% order-fulfilment, 20% trip-booking; 90% completed, 6% compensated, 3% running, 1% stuck; changed over 30 days. */
export function instance(n: number, now: number): AppendRequest {
  const saga = n % 5 === 0 ? 'trip-booking' : 'order-fulfilment';
  const roll = (n * 7919) % 100;
  const status: SagaStatus = roll < 90 ? 'completed' : roll < 96 ? 'compensated' : roll < 99 ? 'running' : 'stuck';
  const instanceId = `${saga === 'trip-booking' ? 'trip' : 'order'}-${String(n).padStart(6, '0')}`;
  const startedAt = now - Math.floor(((n * 104_729) % 1_000_003) / 1_000_003 * 30 * day);
  const updatedAt = startedAt + ((n * 31) % 5_000);
  const step = saga === 'trip-booking' ? 'bookFlight' : 'reserveInventory';
  const base = { at: startedAt, state: { [step]: 'attempt' }, status: 'running' as const };
  const effectId = `${instanceId}/${step}/action/1`;
  const events: SagaEvent[] = [
    { type: 'SagaStarted', ...base, saga, sagaVersion: 1, instanceId, input: { orderId: instanceId, amountCents: n % 10_000 } },
    { type: 'StepDispatched', ...base, step, attempt: 1, effectId, command: { orderId: instanceId } },
    { type: 'StepSucceeded', ...base, at: updatedAt, status, state: status, step, attempt: 1, effectId, reply: { id: `r-${n}` } },
    status === 'completed'
      ? { type: 'SagaCompleted', at: updatedAt, state: status, status }
      : { type: 'TimerScheduled', at: updatedAt, state: status, status, timerId: `${instanceId}/timer/3`, xstateId: 'x', event: { type: 'x' }, dueAt: updatedAt + 1000, purpose: 'custom', step: null },
  ];
  return {
    instanceId,
    expectedRevision: -1,
    events: events.map(encodeEvent),
    summary: { instanceId, saga, version: 1, status, state: JSON.stringify(status), currentStep: step, attempts: 1, revision: events.length - 1, startedAt, updatedAt },
  };
}


/** Writes `total` instances (4 events each) to the SQLite store at `path`, `batch` per commit; how long it took, in ms. */
export async function fillLargeStore(path: string, total: number, batch: number, now: number): Promise<number> {
  const started = performance.now();
  const store = openSqliteEventStore(path);
  for (let from = 0; from < total; from += batch) {
    const requests = Array.from({ length: Math.min(batch, total - from) }, (_, i) => instance(from + i, now));
    const results = await store.appendMany(requests);
    const failed = results.find((result) => result instanceof Error);
    if (failed !== undefined) throw failed;
  }
  await store.close();
  return performance.now() - started;
}
