import { describe, expect, it } from 'vitest';
import { createMemoryEventStore, noStream } from '@sagaflow/core';
import { appendOf, eventStoreContract, started, t0 } from './event-store.contract.js';

eventStoreContract('memory', () => {
  const store = createMemoryEventStore();
  return Promise.resolve({ store, cleanup: () => store.close() });
}, { durable: false });

describe('memory event store clock', () => {
  it('stamps events with the decision time by default, or with the clock it is given', async () => {
    const plain = createMemoryEventStore();
    await plain.append(appendOf('order-1', noStream, [started('order-1')], { updatedAt: t0 + 42 }));
    expect((await plain.readStream('order-1'))[0]?.recordedAt).toBe(t0 + 42);

    const clocked = createMemoryEventStore({ now: () => 1234 });
    await clocked.append(appendOf('order-1', noStream, [started('order-1')], { updatedAt: t0 + 42 }));
    expect((await clocked.readStream('order-1'))[0]?.recordedAt).toBe(1234);
  });

  it('hands out copies: changing what it returned changes nothing stored', async () => {
    const store = createMemoryEventStore();
    await store.append(appendOf('order-1', noStream, [started('order-1')]));
    const stream = (await store.readStream('order-1')) as unknown[];
    stream.length = 0;
    expect(await store.readStream('order-1')).toHaveLength(1);
    expect(Object.isFrozen((await store.readAll(-1, 1))[0])).toBe(true);
    expect(Object.isFrozen(await store.getInstance('order-1'))).toBe(true);
  });
});
