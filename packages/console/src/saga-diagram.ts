import type { AnySagaDefinition, FlowOutline } from '@sagaflow/core';
import type { StepAttempt } from '@sagaflow/inspect';

/** Where a step of an instance stands, for the instance's diagram. */
export type StepState = 'notReached' | 'running' | 'done' | 'failed' | 'timedOut' | 'compensating' | 'compensated' | 'compensationFailed';

/** A step as the diagram draws it. */
export interface DiagramStep {
  readonly name: string;
  readonly compensation: string | null;
  readonly state: StepState;
  /** Attempts of the step, then of its compensation. */
  readonly attempts: number;
  readonly compensationAttempts: number;
}

/** The diagram of an instance: its saga's flow (sequence and parallel groups), each step coloured by where it stands. */
export type DiagramItem = { readonly kind: 'step'; readonly step: DiagramStep } | { readonly kind: 'parallel'; readonly name: string; readonly steps: readonly DiagramStep[] };

/** The flow of a definition: as `define` declared it, or its steps in order for a hand-written machine. */
export function flowOf(definition: AnySagaDefinition): readonly FlowOutline[] {
  return definition.flow ?? [...definition.steps.keys()].map((name): FlowOutline => ({ kind: 'step', name }));
}

/**
 * Where each step stands after the attempts an instance recorded: the last attempt of its compensation
 * decides once there is one (compensated, compensating, or failed), else the last attempt of the step.
 */
export function stepState(attempts: readonly StepAttempt[], step: string): StepState {
  const last = (kind: StepAttempt['kind']): StepAttempt | undefined => attempts.filter((attempt) => attempt.step === step && attempt.kind === kind).at(-1);
  const compensation = last('compensation');
  if (compensation !== undefined) {
    if (compensation.outcome === 'succeeded') return 'compensated';
    if (compensation.outcome === 'pending') return 'compensating';
    return compensation.outcome === 'abandoned' ? 'compensated' : 'compensationFailed';
  }
  const action = last('action');
  if (action === undefined) return 'notReached';
  switch (action.outcome) {
    case 'succeeded':
      return 'done';
    case 'pending':
      return 'running';
    case 'timedOut':
      return 'timedOut';
    case 'abandoned':
      return 'notReached';
    default:
      return 'failed';
  }
}

/** The instance's diagram: the definition's flow (when known; else its steps as attempted) with each step's state. */
export function instanceDiagram(definition: AnySagaDefinition | undefined, attempts: readonly StepAttempt[]): readonly DiagramItem[] {
  const stepOf = (name: string): DiagramStep => ({
    name,
    compensation: definition?.steps.get(name)?.compensation?.name ?? null,
    state: stepState(attempts, name),
    attempts: attempts.filter((attempt) => attempt.step === name && attempt.kind === 'action').length,
    compensationAttempts: attempts.filter((attempt) => attempt.step === name && attempt.kind === 'compensation').length,
  });
  const flow = definition === undefined ? [...new Set(attempts.map((attempt) => attempt.step))].map((name): FlowOutline => ({ kind: 'step', name })) : flowOf(definition);
  return flow.map((item): DiagramItem => (item.kind === 'step' ? { kind: 'step', step: stepOf(item.name) } : { kind: 'parallel', name: item.name, steps: item.steps.map(stepOf) }));
}
