/** Reliable start: prepare/confirm/cancel with check-back, delayed start, and the saga deadline. */
import * as E from 'fp-ts/lib/Either.js';
import fc from 'fast-check';
import * as t from 'io-ts';
import { describe, expect, it } from 'vitest';
import { decide, type SagaInput } from '../src/decider.js';
import { replay } from '../src/replay.js';
import type { InstanceState } from '../src/instance-state.js';
import { createRegistry } from '../src/registry.js';
import { backoffDelay } from '../src/retry-policy.js';
import { saga } from '../src/saga-definition.js';
import type { SagaEvent } from '../src/saga-events.js';
import { operator, sagaSpec, stepSucceeds, timerFires } from './support/saga-spec.js';

const transfer = saga('transfer', {
  version: 1,
  input: t.type({ amount: t.number }),
  deadlineMs: 60_000,
  confirmation: { timeoutMs: 5_000, retry: { maxAttempts: 3, initialDelayMs: 1_000 } },
});
const debit = transfer.step({
  name: 'debit',
  command: t.type({ amount: t.number }),
  reply: t.type({ ok: t.boolean }),
  toCommand: ({ input }) => ({ amount: input.amount }),
  compensation: { name: 'refund', command: t.type({ amount: t.number }), toCommand: ({ input }) => ({ amount: input.amount }) },
});
const credit = transfer.step({
  name: 'credit',
  command: t.type({ amount: t.number }),
  reply: t.type({ ok: t.boolean }),
  toCommand: ({ input }) => ({ amount: input.amount }),
});
const registry = createRegistry([transfer.define([debit, credit])]);
const id = 'tx-1';
const at = 1_000;
const prepare: SagaInput = { type: 'prepare', saga: 'transfer', instanceId: id, input: { amount: 5 } };
const prepared = sagaSpec(registry).given({ clock: at }, prepare);
const checkBackTimer = (state: InstanceState): SagaInput => timerFires('checkBack', null)(state);

describe('two-phase start', () => {
  it('prepare records a pending instance and arms the confirmation timeout; nothing is dispatched', () => {
    sagaSpec(registry)
      .given({ clock: at })
      .when(prepare)
      .then({
        events: [{ type: 'SagaPrepared', instanceId: id, status: 'pending' }, { type: 'TimerScheduled', purpose: 'checkBack', dueAt: at + 5_000 }],
        effects: [{ type: 'schedule', dueAt: at + 5_000 }],
        status: 'pending',
      });
  });

  it('confirm starts it (the deadline starts then); confirm again is a no-op', () => {
    const confirmed = prepared.when({ type: 'confirm', by: 'bank' }, at + 100).then({
      events: [
        { type: 'SagaConfirmed', by: 'bank', status: 'running' },
        { type: 'TimerScheduled', purpose: 'sagaDeadline', dueAt: at + 100 + 60_000 },
        { type: 'StepDispatched', step: 'debit', attempt: 1 },
        { type: 'TimerScheduled', purpose: 'stepTimeout', step: 'debit' },
      ],
      effects: [{ type: 'schedule' }, { type: 'dispatch' }, { type: 'schedule' }, { type: 'cancel' }],
      status: 'running',
    });
    expect(confirmed.effects.filter((effect) => effect.type === 'dispatch')).toHaveLength(1);
    prepared.given({ type: 'confirm', by: 'bank' }).when({ type: 'confirm', by: 'bank' }).thenNothing();
  });

  it('cancel ends it cancelled, never run; cancel again is a no-op; confirm after cancel and cancel after confirm are refused', () => {
    prepared.when({ type: 'cancel', by: 'bank', reason: 'rolled back' }).then({
      events: [{ type: 'SagaCancelled', by: 'bank', reason: 'rolled back', status: 'cancelled' }],
      effects: [{ type: 'cancel' }],
      status: 'cancelled',
    });
    const cancelled = prepared.given({ type: 'cancel', by: 'bank', reason: 'rolled back' });
    cancelled.when({ type: 'cancel', by: 'bank', reason: 'again' }).thenNothing();
    const late = cancelled.when({ type: 'confirm', by: 'bank' }).thenFails({ _tag: 'InterventionRefused', action: 'confirm', status: 'cancelled' });
    expect(late.message).toContain('it was cancelled and never ran');
    const started = prepared.given({ type: 'confirm', by: 'bank' });
    started.when({ type: 'cancel', by: 'bank', reason: 'too late' }).thenFails({ _tag: 'InterventionRefused', action: 'cancel', status: 'running' });
  });

  it('past the confirmation timeout the engine asks the upstream (check-back), and asks again with backoff', () => {
    prepared.when(checkBackTimer).then({
      events: [
        { type: 'TimerFired', status: 'pending' },
        { type: 'CheckBackRequested', attempt: 1 },
        { type: 'TimerScheduled', purpose: 'checkBackRetry', dueAt: at + 5_000 + backoffDelay(registry.latest('transfer')!.options.checkBackRetry, 1, `${id}/check-back/1`) },
      ],
      effects: [{ type: 'checkBack', id: `${id}/check-back/1`, attempt: 1, saga: 'transfer' }, { type: 'schedule' }],
      status: 'pending',
    });
  });

  it('a check-back answer confirms (committed) or cancels (rolled back)', () => {
    const asked = prepared.given(checkBackTimer);
    asked.when({ type: 'checkBackAnswer', outcome: 'committed' }).then({
      events: [{ type: 'SagaConfirmed', by: 'check-back' }, { type: 'TimerScheduled' }, { type: 'StepDispatched', step: 'debit' }, { type: 'TimerScheduled' }],
      status: 'running',
    });
    asked.when({ type: 'checkBackAnswer', outcome: 'rolledBack' }).then({ events: [{ type: 'SagaCancelled', by: 'check-back' }], status: 'cancelled' });
  });

  it('unanswered check-backs past their budget leave the instance stuck; an operator retry asks again', () => {
    const retry = (state: InstanceState): SagaInput => timerFires('checkBackRetry', null)(state);
    const exhausted = prepared.given(checkBackTimer, retry, retry);
    exhausted.when(retry).then({
      events: [{ type: 'TimerFired' }, { type: 'SagaStuck', step: 'check-back', status: 'stuck' }],
      status: 'stuck',
      state: { pending: 'unanswered' },
    });
    exhausted.given(retry).when(operator('retry')).then({
      events: [{ type: 'OperatorIntervened', action: 'retry' }, { type: 'CheckBackRequested', attempt: 4 }, { type: 'TimerScheduled', purpose: 'checkBackRetry' }],
      status: 'pending',
    });
    // A late answer still settles it.
    exhausted.given(retry).when({ type: 'checkBackAnswer', outcome: 'rolledBack' }).then({ events: [{ type: 'SagaCancelled' }], status: 'cancelled' });
  });
});

describe('delayed start and deadline', () => {
  const start: SagaInput = { type: 'start', saga: 'transfer', instanceId: id, input: { amount: 5 }, startAt: at + 30_000 };

  it('a start at a later time waits pending on a durable timer due then, and may be cancelled meanwhile', () => {
    const scheduled = sagaSpec(registry).given({ clock: at });
    scheduled.when(start).then({
      events: [{ type: 'SagaStarted', startAt: at + 30_000, status: 'pending' }, { type: 'TimerScheduled', purpose: 'startDelay', dueAt: at + 30_000 }],
      status: 'pending',
      state: 'scheduled',
    });
    const waiting = scheduled.given(start);
    waiting.when(timerFires('startDelay', null)).then({
      events: [{ type: 'TimerFired' }, { type: 'TimerScheduled', purpose: 'sagaDeadline', dueAt: at + 30_000 + 60_000 }, { type: 'StepDispatched', step: 'debit' }, { type: 'TimerScheduled' }],
      status: 'running',
    });
    waiting.when({ type: 'cancel', by: 'ops', reason: 'not needed' }).then({ events: [{ type: 'SagaCancelled' }], status: 'cancelled' });
  });

  it('the deadline stops forward progress and compensates what ran (and what was in flight)', () => {
    const running = prepared.given({ type: 'confirm', by: 'bank' }, stepSucceeds('debit', { ok: true }));
    running.when(timerFires('sagaDeadline', null)).then({
      events: [{ type: 'TimerFired' }, { type: 'CompensationDispatched', step: 'debit' }, { type: 'TimerScheduled', purpose: 'compensationTimeout' }],
      status: 'compensating',
    });
    const done = running.given(stepSucceeds('credit', { ok: true }));
    expect(done.state?.status).toBe('completed');
    expect(done.state?.timers.size).toBe(0); // the deadline timer was cancelled on completion
  });
});

describe('confirm, cancel and check-back racing', () => {
  it('whatever the order, exactly one outcome: it ran, or it was cancelled — never both, and replay agrees', () => {
    const move = fc.constantFrom<SagaInput | 'timer'>(
      { type: 'confirm', by: 'upstream' },
      { type: 'cancel', by: 'upstream', reason: 'rolled back' },
      { type: 'checkBackAnswer', outcome: 'committed' },
      { type: 'checkBackAnswer', outcome: 'rolledBack' },
      'timer',
    );
    fc.assert(
      fc.property(fc.array(move, { minLength: 1, maxLength: 12 }), (moves) => {
        const first = decide(registry, null, prepare, at);
        if (E.isLeft(first)) throw new Error(first.left.message);
        let state = first.right.state;
        const history: SagaEvent[] = [...first.right.events];
        let now = at;
        for (const m of moves) {
          now += 1_000;
          const timer = state === null ? undefined : [...state.timers.values()][0];
          const input: SagaInput | null = m === 'timer' ? (timer === undefined ? null : { type: 'timer', timerId: timer.timerId }) : m;
          if (input === null) continue;
          const decided = decide(registry, state, input, Math.max(now, timer?.dueAt ?? 0));
          if (E.isLeft(decided)) {
            expect(decided.left._tag).toBe('InterventionRefused');
            continue;
          }
          state = decided.right.state;
          history.push(...decided.right.events);
        }
        const confirmed = history.filter((e) => e.type === 'SagaConfirmed').length;
        const cancelled = history.filter((e) => e.type === 'SagaCancelled').length;
        const ran = history.some((e) => e.type === 'StepDispatched');
        expect(confirmed + cancelled).toBeLessThanOrEqual(1);
        expect(ran).toBe(confirmed === 1);
        if (cancelled === 1) expect(state?.status).toBe('cancelled');
        const replayed = replay(registry, id, history);
        expect(E.isRight(replayed) && replayed.right.status).toBe(state?.status);
      }),
      { numRuns: 300 },
    );
  });
});
