/**
 * docs/reliability.md, rows 6–8: past the upstream. The engine fails to record a confirm or cancel
 * it was delivered (its event store refuses the write, or the process dies just before or just
 * after the append), the downstream worker dies after its local commit, the worker's reply is
 * refused by the message store. The engine and the worker are processes (kill -9); the bank runs
 * in this process and answers check-backs from its PostgreSQL markers.
 */
import { afterEach, beforeEach, describe, expect, it, inject } from 'vitest';
import type { SagaEvent } from '@sagaflow/core';
import { openAccount, serveBankCheckBacks, transferMoney } from './support/bank.js';
import { eventually, World } from './support/world.js';

let world: World;
beforeEach(async () => {
  world = await World.open(inject('natsUrl'));
  await openAccount(world.bank, 'alice', 1_000);
  const checkBacks = await serveBankCheckBacks(world.bank, world.connection, world.namespace);
  world.onClose(() => checkBacks.stop());
});
afterEach(async () => {
  await world.close();
});

const transferOf = (transferId: string, amountCents = 100) => ({ transferId, from: 'alice', to: 'bob', amountCents });
const count = (events: readonly SagaEvent[], type: SagaEvent['type']): number => events.filter((e) => e.type === type).length;
const bank = () => ({ js: world.js, names: world.names });

describe('the engine fails to record the outcome it was delivered', () => {
  it('row 6 — its event store refuses the confirm twice: the confirm stays unacknowledged, is delivered again, recorded once; the saga runs once', async () => {
    const engine = await world.startEngine('refuse:SagaConfirmed:2');
    await world.startWorker();
    expect(await transferMoney(world.bank, bank(), transferOf('t-refused-write'))).toEqual({ outcome: 'confirmed' });
    await world.settles('t-refused-write', ['completed']);
    expect(engine.lines.filter((line) => line === 'fault refuse SagaConfirmed')).toHaveLength(2);
    const events = await world.events('t-refused-write');
    expect(count(events, 'SagaConfirmed')).toBe(1);
    expect(count(events, 'StepDispatched')).toBe(1);
    expect(world.credits('t-refused-write')).toBe(1);
  });

  it('row 6 — the engine dies right after recording the confirm, before acknowledging it: after a restart the redelivered confirm is a no-op and the step runs once', async () => {
    const engine = await world.startEngine('kill-after:SagaConfirmed');
    await world.startWorker();
    expect(await transferMoney(world.bank, bank(), transferOf('t-killed-after'))).toEqual({ outcome: 'confirmed' });
    expect(await engine.exited).toBe('SIGKILL');
    await world.startEngine();
    await world.settles('t-killed-after', ['completed']);
    const events = await world.events('t-killed-after');
    expect(count(events, 'SagaConfirmed')).toBe(1);
    expect(count(events, 'StepSucceeded')).toBe(1);
    expect(world.credits('t-killed-after')).toBe(1);
  });

  it('row 6 — the engine dies just before recording a cancel: after a restart the cancel (redelivered, or the check-back) ends it cancelled', async () => {
    const engine = await world.startEngine('kill-before:SagaCancelled');
    await world.startWorker();
    expect(await transferMoney(world.bank, bank(), transferOf('t-killed-before', 5_000))).toEqual({ outcome: 'cancelled' });
    expect(await engine.exited).toBe('SIGKILL');
    expect((await world.summary('t-killed-before'))?.status).toBe('pending');
    await world.startEngine();
    await world.settles('t-killed-before', ['cancelled']);
    const events = await world.events('t-killed-before');
    expect(count(events, 'SagaCancelled')).toBe(1);
    expect(count(events, 'StepDispatched')).toBe(0);
    expect(world.credits('t-killed-before')).toBe(0);
  });
});

describe('past the engine', () => {
  it('row 7 — the downstream worker dies after its local commit, before replying: the command is delivered again and answered from the barrier', async () => {
    await world.startEngine();
    const worker = await world.startWorker({ crashAfterCommit: true });
    expect(await transferMoney(world.bank, bank(), transferOf('t-worker-died'))).toEqual({ outcome: 'confirmed' });
    expect(await worker.exited).toBe('SIGKILL');
    expect(worker.lines).toContain('credited t-worker-died');
    expect((await world.summary('t-worker-died'))?.status).toBe('running');
    const restarted = await world.startWorker();
    await world.settles('t-worker-died', ['completed']);
    expect(restarted.lines.some((line) => line.startsWith('duplicate t-worker-died/credit/action/1'))).toBe(true);
    expect(world.credits('t-worker-died')).toBe(1);
    expect(count(await world.events('t-worker-died'), 'StepSucceeded')).toBe(1);
  });

  it('row 8 — the worker’s reply is refused by the message store: the command is delivered again until the reply is stored; the business change happens once', async () => {
    await world.startEngine();
    const worker = await world.startWorker();
    await world.refuseWrites('replies', true);
    expect(await transferMoney(world.bank, bank(), transferOf('t-reply-lost'))).toEqual({ outcome: 'confirmed' });
    await eventually(() => (worker.lines.filter((line) => line.startsWith('delivery t-reply-lost/')).length >= 2 ? true : undefined), 'a second delivery of the command');
    expect((await world.summary('t-reply-lost'))?.status).toBe('running');
    await world.refuseWrites('replies', false);
    await world.settles('t-reply-lost', ['completed']);
    expect(worker.lines.filter((line) => line === 'credited t-reply-lost')).toHaveLength(1);
    expect(worker.lines.some((line) => line.startsWith('duplicate t-reply-lost/'))).toBe(true);
    expect(world.credits('t-reply-lost')).toBe(1);
  });
});
