import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { describe, expect, it } from 'vitest';
import { createMemoryEventStore, createRegistry, saga, type CheckBackAnswer, type CheckBackEffect, type EventStore, type TransportHandlers } from '@sagaflow/core';
import { createInProcessTransport } from '../src/in-process-transport.js';
import { Engine } from '../src/engine.js';

const transfer = saga('transfer', {
  version: 1,
  input: t.type({ amount: t.number }),
  confirmation: { timeoutMs: 20, retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 20 } },
});
const credit = transfer.step({ name: 'credit', command: t.type({ amount: t.number }), reply: t.type({ ok: t.boolean }), toCommand: ({ input }) => ({ amount: input.amount }) });
const registry = createRegistry([transfer.define([credit])]);
const silentLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** An engine whose in-process transport runs `credit` and answers check-backs with `answer` (null: no answer). */
function engineOn(store: EventStore, answer: (instanceId: string) => Promise<CheckBackAnswer>) {
  const transport = createInProcessTransport({ redeliveryDelayMs: 5 });
  const credits: string[] = [];
  transport.register('credit', (effect) => {
    credits.push(effect.instanceId);
    return Promise.resolve({ ok: true, reply: { ok: true } });
  });
  transport.registerCheckBack('transfer', async (instanceId) => {
    const reply = await answer(instanceId);
    if (reply === null) throw new Error('the upstream cannot tell');
    return reply;
  });
  const asked: CheckBackEffect[] = [];
  const checkBack = transport.checkBack.bind(transport);
  const listen = transport.listen.bind(transport);
  transport.checkBack = (effect) => {
    asked.push(effect);
    return checkBack(effect);
  };
  let handlers: TransportHandlers | undefined;
  transport.listen = (given) => {
    handlers = given;
    return listen(given);
  };
  const engine = new Engine({ store, registry, transport, log: silentLog });
  return { engine, credits, asked, handlers: () => handlers };
}

async function statusOf(store: EventStore, id: string, expected: string): Promise<string | undefined> {
  for (let i = 0; i < 200; i++) {
    const summary = await store.getInstance(id);
    if (summary?.status === expected) return expected;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return (await store.getInstance(id))?.status;
}

describe('Engine: two-phase start', () => {
  it('prepares a pending instance that runs only once confirmed', async () => {
    const store = createMemoryEventStore();
    const { engine, credits } = engineOn(store, () => Promise.resolve(null));
    await engine.start();
    const prepared = await engine.prepareSaga('transfer', 'tx-1', { amount: 5 });
    expect(E.isRight(prepared) && prepared.right.status).toBe('pending');
    expect(credits).toEqual([]);
    expect(E.isRight(await engine.confirm('tx-1'))).toBe(true);
    expect(await statusOf(store, 'tx-1', 'completed')).toBe('completed');
    expect(credits).toEqual(['tx-1']);
    await engine.stop();
  });

  it('asks the upstream past the confirmation timeout and follows its answer', async () => {
    const store = createMemoryEventStore();
    const { engine, credits, asked } = engineOn(store, (instanceId) => Promise.resolve(instanceId === 'tx-yes' ? 'committed' : 'rolledBack'));
    await engine.start();
    await engine.prepareSaga('transfer', 'tx-yes', { amount: 1 });
    await engine.prepareSaga('transfer', 'tx-no', { amount: 1 });
    expect(await statusOf(store, 'tx-yes', 'completed')).toBe('completed');
    expect(await statusOf(store, 'tx-no', 'cancelled')).toBe('cancelled');
    expect(credits).toEqual(['tx-yes']);
    expect(asked.map((effect) => [effect.instanceId, effect.attempt, effect.saga])).toEqual(
      expect.arrayContaining([
        ['tx-yes', 1, 'transfer'],
        ['tx-no', 1, 'transfer'],
      ]),
    );
    await engine.stop();
  });

  it('takes start requests of every kind; a cancel of an instance never prepared is a no-op, a confirm of one is refused', async () => {
    const store = createMemoryEventStore();
    const { engine, handlers } = engineOn(store, () => Promise.resolve(null));
    await engine.start();
    const start = handlers()!.start;
    expect(await start({ kind: 'prepare', saga: 'transfer', instanceId: 'tx-2', input: { amount: 2 } })).toEqual({ accepted: true });
    expect(await start({ kind: 'prepare', saga: 'transfer', instanceId: 'tx-2', input: { amount: 2 } })).toEqual({ accepted: true });
    expect(await start({ kind: 'cancel', saga: 'transfer', instanceId: 'tx-2', reason: 'rolled back' })).toEqual({ accepted: true });
    expect((await store.getInstance('tx-2'))?.status).toBe('cancelled');
    expect(await start({ kind: 'cancel', saga: 'transfer', instanceId: 'tx-never' })).toEqual({ accepted: true });
    expect(await store.getInstance('tx-never')).toBeUndefined();
    expect(await start({ kind: 'confirm', saga: 'transfer', instanceId: 'tx-never' })).toMatchObject({ accepted: false });
    expect(await start({ kind: 'confirm', saga: 'transfer', instanceId: 'tx-2' })).toMatchObject({ accepted: false, reason: expect.stringContaining('cancelled') as unknown });
    const later = Date.now() + 60_000;
    expect(await start({ kind: 'start', saga: 'transfer', instanceId: 'tx-3', input: { amount: 3 }, startAt: later })).toEqual({ accepted: true });
    expect((await store.getInstance('tx-3'))?.status).toBe('pending');
    await engine.stop();
  });
});
