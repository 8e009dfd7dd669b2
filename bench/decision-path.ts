/**
 * The engine's per-input work without I/O: for each saga of the standard workload, `decide` every
 * input (start, then one reply per dispatched command), encode the events as the store receives
 * them and compute the listing row, exactly as the engine's loop does between a message and its
 * append. Reports CPU microseconds per saga (best round), so the cost of the pure core can be
 * measured apart from SQLite, NATS and the other processes.
 *
 *   npm run bench -- --only decision [-- --sagas 20000 --rounds 5 --workloads W1,W2]
 *   node --import tsx bench/decision-path.ts --sagas 20000 --rounds 5
 *   node --import tsx --cpu-prof --cpu-prof-dir /tmp/prof bench/decision-path.ts   # where it goes
 */
import { parseArgs } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';
import { createRegistry, decide, encodeEvent, summaryOf, type DispatchEffect, type InstanceState, type SagaInput } from '@sagaflow/core';
import benchOrder from './sagas/bench-order.saga.js';
import { driveSaga } from './step-replies.js';
import { benchOf, listOf, readOptions, wholeNumber } from './options.js';

const usage = `
npm run bench -- --only decision [OPTIONS]    CPU per saga of the pure decision path, in process, no I/O

  --sagas 20000        sagas per round
  --rounds 5           rounds per workload; the best is reported
  --warmup 2000        sagas decided before the rounds, not measured
  --workloads W1,W2    workloads to run
`;
const bench = benchOf('decision');
const { values } = readOptions(bench, usage, () =>
  parseArgs({
    options: {
      sagas: { type: 'string', default: '20000' },
      rounds: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '2000' },
      workloads: { type: 'string', default: 'W1,W2' },
    },
  }),
);
const sagas = wholeNumber(bench, 'sagas', values.sagas, 1);
const rounds = wholeNumber(bench, 'rounds', values.rounds, 1);
const warmup = wholeNumber(bench, 'warmup', values.warmup, 0);
const workloads = listOf(bench, 'workloads', values.workloads, ['W1', 'W2']);

const registry = createRegistry([benchOrder]);
let clock = Date.UTC(2026, 0, 1);

/** Decides one input the way the engine does, and returns the new state and what it dispatched. */
function step(state: InstanceState | null, input: SagaInput): { state: InstanceState; dispatched: DispatchEffect[] } {
  const decision = decide(registry, state, input, clock++);
  if (E.isLeft(decision)) throw new Error(decision.left.message);
  const next = decision.right.state;
  if (next === null) throw new Error('no state after a decision');
  decision.right.events.map(encodeEvent);
  summaryOf(next);
  return { state: next, dispatched: decision.right.effects.filter((effect): effect is DispatchEffect => effect.type === 'dispatch') };
}

/** One saga from start to its end, replies computed by the peers' step bodies; its final status. */
function runSaga(index: number, failShipment: boolean): string {
  const saga: { state: InstanceState | null } = { state: null };
  driveSaga(`order-${index}`, failShipment, (input) => {
    const next = step(saga.state, input);
    saga.state = next.state;
    return next.dispatched;
  });
  if (saga.state === null) throw new Error('the saga never started');
  return saga.state.status;
}

for (const workload of workloads) {
  const failShipment = workload === 'W2';
  const expected = failShipment ? 'compensated' : 'completed';
  for (let i = 0; i < warmup; i++) runSaga(i, failShipment);
  const perSaga: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const before = process.cpuUsage();
    for (let i = 0; i < sagas; i++) {
      const status = runSaga(i, failShipment);
      if (status !== expected) throw new Error(`${workload}: saga ended ${status}, expected ${expected}`);
    }
    const used = process.cpuUsage(before);
    perSaga.push((used.user + used.system) / sagas);
  }
  const best = Math.min(...perSaga);
  console.log(`${workload}: ${best.toFixed(1)} µs CPU per saga (best of ${rounds} rounds of ${sagas}; rounds: ${perSaga.map((us) => us.toFixed(0)).join(', ')})`);
}
