/**
 * docs/reliability.md, rows 4–5: the prepare is stored, then the upstream's business operation
 * fails, or the confirm/cancel that should follow it is lost because the upstream process dies
 * (kill -9 at an exact point of its flow). The bank, the engine and the downstream worker are
 * processes; a restarted bank answers the engine's check-backs from its PostgreSQL markers.
 */
import { afterEach, beforeEach, describe, expect, it, inject } from 'vitest';
import type { SagaEvent } from '@sagaflow/core';
import { openAccount } from './support/bank.js';
import { World } from './support/world.js';

let world: World;
beforeEach(async () => {
  world = await World.open(inject('natsUrl'));
  await openAccount(world.bank, 'alice', 1_000);
  await Promise.all([world.startEngine(), world.startWorker()]);
});
afterEach(async () => {
  await world.close();
});

const transferOf = (transferId: string, amountCents = 100) => ({ transferId, from: 'alice', to: 'bob', amountCents });
const outcomes = (events: readonly SagaEvent[]) => events.filter((e) => e.type === 'SagaConfirmed' || e.type === 'SagaCancelled');

/** Runs the bank process on one transfer, killing it at `crashAt`; resolves once it has died. */
async function bankDiesAt(crashAt: string, transfer: ReturnType<typeof transferOf>): Promise<void> {
  const bank = await world.startUpstream({ transfer, crashAt });
  expect(await bank.exited).toBe('SIGKILL');
  expect(bank.lines).toContain(`at ${crashAt}`);
}

describe('the business operation fails after the prepare is stored', () => {
  it('row 4 — the local transaction rolls back (insufficient funds): the upstream cancels, nothing runs', async () => {
    const bank = await world.startUpstream({ transfer: transferOf('t-poor', 5_000) });
    await bank.waitFor(/^result /u);
    expect(bank.lines).toContain('result {"outcome":"cancelled"}');
    await world.settles('t-poor', ['cancelled']);
    const events = await world.events('t-poor');
    expect(outcomes(events)).toEqual([expect.objectContaining({ type: 'SagaCancelled', by: 'bank' })]);
    expect(events.some((e) => e.type === 'StepDispatched')).toBe(false);
    expect(await world.bank.debitsOf('t-poor')).toBe(0);
    expect(world.credits('t-poor')).toBe(0);
  });

  it('row 4 — the upstream dies inside its transaction (debited, marked, not committed): PostgreSQL rolls it back, the check-back cancels', async () => {
    await bankDiesAt('marked', transferOf('t-died'));
    await world.settles('t-died', ['pending']); // no upstream answers check-backs meanwhile
    await world.startUpstream(); // the bank comes back and answers check-backs
    await world.settles('t-died', ['cancelled']);
    expect(outcomes(await world.events('t-died'))).toEqual([expect.objectContaining({ type: 'SagaCancelled', by: 'check-back' })]);
    expect(await world.bank.debitsOf('t-died')).toBe(0);
    expect(await world.bank.balance('alice')).toBe(1_000);
    expect(world.credits('t-died')).toBe(0);
  });
});

describe('the confirm or cancel is lost', () => {
  it('row 5 — committed, then the upstream dies before confirming: the check-back finds the commit marker; the saga runs once', async () => {
    await bankDiesAt('committed', transferOf('t-committed'));
    expect(await world.bank.debitsOf('t-committed')).toBe(1);
    await world.startUpstream();
    await world.settles('t-committed', ['completed']);
    expect(outcomes(await world.events('t-committed'))).toEqual([expect.objectContaining({ type: 'SagaConfirmed', by: 'check-back' })]);
    expect(world.credits('t-committed')).toBe(1);
    expect(await world.bank.balance('alice')).toBe(900);
  });

  it('row 5 — rolled back, then the upstream dies before cancelling: the check-back finds no commit marker and cancels', async () => {
    await bankDiesAt('rolledBack', transferOf('t-rolled-back', 5_000));
    await world.startUpstream();
    await world.settles('t-rolled-back', ['cancelled']);
    expect(outcomes(await world.events('t-rolled-back'))).toEqual([expect.objectContaining({ type: 'SagaCancelled', by: 'check-back' })]);
    expect(await world.bank.debitsOf('t-rolled-back')).toBe(0);
    expect(world.credits('t-rolled-back')).toBe(0);
  });

  it('row 5 — the check-back comes while the local transaction is still open: it waits for the commit, then the late confirm is a no-op', async () => {
    // The transaction holds its commit marker open for 900 ms; the first check-back comes after 300 ms.
    const bank = await world.startUpstream({ transfer: transferOf('t-slow'), holdMs: 900 });
    await bank.waitFor(/^result /u);
    expect(bank.lines).toContain('result {"outcome":"confirmed"}');
    await world.settles('t-slow', ['completed']);
    const events = await world.events('t-slow');
    const asked = events.findIndex((e) => e.type === 'CheckBackRequested');
    const confirmed = events.findIndex((e) => e.type === 'SagaConfirmed');
    expect(asked).toBeGreaterThan(-1);
    expect(asked).toBeLessThan(confirmed); // the check-back was in flight while the transaction was open
    expect(outcomes(events)).toHaveLength(1);
    expect(events.filter((e) => e.type === 'StepDispatched')).toHaveLength(1);
    expect(world.credits('t-slow')).toBe(1);
    expect(await world.bank.debitsOf('t-slow')).toBe(1);
  });
});
