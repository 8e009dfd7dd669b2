/**
 * Saga deadline and delayed start across an engine crash: the engine process is killed (kill -9)
 * while the timer is armed and restarted; the timer fires from the event log, once, not early.
 * The workers run in this process.
 */
import { afterEach, beforeEach, describe, expect, it, inject } from 'vitest';
import type { SagaEvent } from '@sagaflow/core';
import { requestStart } from '@sagaflow/nats';
import { createWorker } from '@sagaflow/worker';
import { approval, hold, pay, payout } from './support/sagas.js';
import { eventually, sleep, World } from './support/world.js';

let world: World;
beforeEach(async () => {
  world = await World.open(inject('natsUrl'));
});
afterEach(async () => {
  await world.close();
});

/** Calls of each operation, with when they came. */
function workersFor(calls: Map<string, number[]>) {
  const record = (operation: string): void => void calls.set(operation, [...(calls.get(operation) ?? []), Date.now()]);
  const approvals = createWorker({ connection: world.connection, saga: approval, namespace: world.namespace, log: () => undefined })
    .step(hold, () => {
      record('hold');
      return { held: true };
    })
    .compensation(hold, () => {
      record('release');
    });
  const payouts = createWorker({ connection: world.connection, saga: payout, namespace: world.namespace, log: () => undefined }).step(pay, () => {
    record('pay');
    return { paid: true };
  });
  world.onClose(() => Promise.all([approvals.stop(), payouts.stop()]));
  return Promise.all([approvals.start(), payouts.start()]);
}

const timersOf = (events: readonly SagaEvent[], purpose: string) => events.flatMap((e) => (e.type === 'TimerScheduled' && e.purpose === purpose ? [e] : []));

describe('durable timers across an engine crash', () => {
  it('the saga deadline, armed when the engine is killed, fires after the restart at its due time and compensates once', async () => {
    const calls = new Map<string, number[]>();
    await world.startEngine();
    await workersFor(calls);
    await requestStart(world.js, world.names, { saga: 'approval', instanceId: 'deadline-1', input: { id: 'deadline-1' } });
    // `hold` succeeded, `approve` is never answered: the saga waits, its 2.5 s deadline armed.
    const [deadline] = await eventually(async () => {
      const events = await world.events('deadline-1').catch(() => []);
      return events.some((e) => e.type === 'StepSucceeded') ? timersOf(events, 'sagaDeadline') : undefined;
    }, 'hold to succeed');
    expect(deadline).toBeDefined();
    await world.kill(world.engine);
    await sleep(300);
    const restarted = await world.startEngine();
    expect(restarted.lines.find((line) => line.startsWith('recovered '))).toMatch(/^recovered 1 /);
    const ended = await world.settles('deadline-1', ['compensated'], 10_000);
    expect(ended.status).toBe('compensated');
    const events = await world.events('deadline-1');
    expect(events.filter((e) => e.type === 'TimerFired' && e.timerId === deadline!.timerId)).toHaveLength(1);
    expect(events.find((e) => e.type === 'SagaCompensated')).toMatchObject({ failure: { code: 'DeadlineExceeded' } });
    expect(calls.get('hold')).toHaveLength(1);
    expect(calls.get('release')).toHaveLength(1);
    expect(calls.get('release')![0]).toBeGreaterThanOrEqual(deadline!.dueAt);
  });

  it('a delayed start, pending when the engine is killed, runs once after the restart, never before its time', async () => {
    const calls = new Map<string, number[]>();
    await world.startEngine();
    await workersFor(calls);
    const startAt = Date.now() + 1_500;
    await requestStart(world.js, world.names, { saga: 'payout', instanceId: 'later-1', input: { id: 'later-1' }, startAt });
    await world.settles('later-1', ['pending']);
    await world.kill(world.engine);
    await sleep(Math.max(0, startAt - Date.now()) + 300); // the start time passes while no engine runs
    expect(calls.get('pay')).toBeUndefined();
    await world.startEngine();
    await world.settles('later-1', ['completed']);
    const events = await world.events('later-1');
    expect(events[0]).toMatchObject({ type: 'SagaStarted', startAt });
    expect(timersOf(events, 'startDelay')).toEqual([expect.objectContaining({ dueAt: startAt })]);
    expect(calls.get('pay')).toHaveLength(1);
    expect(calls.get('pay')![0]).toBeGreaterThanOrEqual(startAt);
  });
});
