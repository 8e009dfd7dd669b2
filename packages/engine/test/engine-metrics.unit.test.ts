/**
 * The engine's metrics from committed events, read back from the registry: what the Prometheus test
 * cannot provoke on the order example (timeouts, dead letters naming an instance, interventions, a
 * cancelled start), and the bounded labels (never an instance or effect id).
 */
import type { InstanceState, SagaEvent } from '@sagaflow/core';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { EngineMetrics } from '../src/engine-metrics.js';

const state = { definition: { name: 'trip' }, instanceId: 'trip-1', startedAt: 1_000, status: 'running' } as unknown as InstanceState;
const at = (ms: number) => ({ at: ms, state: null, status: 'running' as const });

async function values(registry: Registry, name: string): Promise<{ labels: Record<string, string | number>; value: number }[]> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`${name} not registered`);
  return (await metric.get()).values.map(({ labels, value }) => ({ labels: labels as Record<string, string | number>, value }));
}

describe('EngineMetrics', () => {
  it('counts timeouts, dead letters, interventions and cancellations, and times attempts from their dispatch', async () => {
    const registry = new Registry();
    const metrics = new EngineMetrics(registry, () => ({ instances: () => [state, { ...state, status: 'stuck' }], timersArmed: () => 3, partitionsHeld: () => 8 }));
    const events = [
      { type: 'SagaStarted', ...at(1_000), saga: 'trip', sagaVersion: 1, instanceId: 'trip-1', input: {} },
      { type: 'StepDispatched', ...at(1_000), step: 'flight', attempt: 1, effectId: 'trip-1/flight/action/1', command: {} },
      { type: 'StepTimedOut', ...at(6_000), step: 'flight', attempt: 1, timerId: 't1' },
      { type: 'StepDispatched', ...at(6_000), step: 'flight', attempt: 2, effectId: 'trip-1/flight/action/2', command: {} },
      { type: 'StepSucceeded', ...at(6_250), step: 'flight', attempt: 2, effectId: 'trip-1/flight/action/2', reply: {} },
      { type: 'CompensationDispatched', ...at(7_000), step: 'flight', attempt: 1, effectId: 'trip-1/flight/compensation/1', command: {} },
      { type: 'EffectDeadLettered', ...at(7_100), step: 'flight', attempt: 1, effectId: 'trip-1/flight/compensation/1', kind: 'compensation', reason: 'poison' },
      { type: 'SagaStuck', ...at(7_100), step: 'flight', error: null },
      { type: 'OperatorIntervened', ...at(8_000), action: 'abort', by: 'ann', reason: 'gave up', step: null },
      { type: 'SagaCancelled', ...at(9_000), by: 'ann', reason: 'gave up' },
    ] as unknown as SagaEvent[];
    metrics.committed(null, state, events);
    metrics.storeCommitted(0.004, 12);
    metrics.appendConflict();

    expect(await values(registry, 'sagaflow_step_timeouts_total')).toEqual([{ labels: { saga: 'trip', step: 'flight', kind: 'action' }, value: 1 }]);
    expect(await values(registry, 'sagaflow_step_retries_total')).toEqual([{ labels: { saga: 'trip', step: 'flight', kind: 'action' }, value: 1 }]);
    expect(await values(registry, 'sagaflow_dead_letters_total')).toEqual([{ labels: { saga: 'trip', step: 'flight', kind: 'compensation' }, value: 1 }]);
    expect(await values(registry, 'sagaflow_instances_stuck_total')).toEqual([{ labels: { saga: 'trip' }, value: 1 }]);
    expect(await values(registry, 'sagaflow_interventions_total')).toEqual([{ labels: { saga: 'trip', action: 'abort' }, value: 1 }]);
    expect(await values(registry, 'sagaflow_instances_ended_total')).toEqual([{ labels: { saga: 'trip', status: 'cancelled' }, value: 1 }]);
    // Only the attempt that was answered is timed: 250 ms, in the 0.25 s bucket.
    const step = await values(registry, 'sagaflow_step_duration_seconds');
    expect(step.find((s) => s.labels.le === 0.25)?.value).toBe(1);
    expect(step.find((s) => s.labels.le === 0.1)?.value).toBe(0);
    expect(step.find((s) => (s.labels as { le?: unknown }).le === undefined && s.value === 0.25)).toBeDefined();
    expect((await values(registry, 'sagaflow_saga_duration_seconds')).find((s) => s.labels.le === 10)?.value).toBe(1);
    expect(await values(registry, 'sagaflow_store_append_conflicts_total')).toEqual([{ labels: {}, value: 1 }]);
    expect(await values(registry, 'sagaflow_instances_in_flight')).toEqual([
      { labels: { saga: 'trip', status: 'running' }, value: 1 },
      { labels: { saga: 'trip', status: 'stuck' }, value: 1 },
    ]);
    expect(await values(registry, 'sagaflow_timers_armed')).toEqual([{ labels: {}, value: 3 }]);
    expect(await values(registry, 'sagaflow_partitions_held')).toEqual([{ labels: {}, value: 8 }]);
    // No label anywhere carries an instance or effect id.
    const text = await registry.metrics();
    expect(text).not.toMatch(/trip-1/u);
  });
});
