/** The append batcher's fence: an append whose instance the engine no longer decides for when its commit starts is refused, not written. */
import { describe, expect, it } from 'vitest';
import { createMemoryEventStore, noStream, NotOwnerError, type AppendRequest } from '@sagaflow/core';
import { AppendBatcher } from '../src/append-batcher.js';

const request = (instanceId: string): AppendRequest => ({
  instanceId,
  expectedRevision: noStream,
  events: [{ type: 'SagaStarted', json: '{}' }],
  summary: { instanceId, saga: 's', version: 1, status: 'running', state: '"x"', currentStep: null, attempts: 0, revision: 0, startedAt: 1, updatedAt: 1 },
});

describe('AppendBatcher', () => {
  it('checks the fence when the commit starts: a refused append is rejected with its error, the others are committed together', async () => {
    const store = createMemoryEventStore();
    const lost = new Set<string>();
    const batcher = new AppendBatcher(store, (instanceId) => {
      if (lost.has(instanceId)) throw new NotOwnerError(instanceId, 3);
    });
    const kept = batcher.append(request('kept'));
    const refused = batcher.append(request('refused'));
    // Queued while the partition was held; lost before the commit (which starts on the next turn).
    lost.add('refused');
    expect(await kept).toMatchObject({ revision: 0 });
    await expect(refused).rejects.toBeInstanceOf(NotOwnerError);
    expect(await store.getInstance('kept')).toBeDefined();
    expect(await store.getInstance('refused')).toBeUndefined();
  });
});
