import type { AnySagaDefinition } from '@sagaflow/core';
import type { FastifyInstance } from 'fastify';
import type { ConsoleContext } from '../context.js';
import { machineGraph } from '../machine-graph.js';
import { flowOf } from '../saga-diagram.js';

/** A definition as the Sagas page shows it: its steps with their policies, its flow and its machine. */
function definitionView(definition: AnySagaDefinition) {
  return {
    name: definition.name,
    version: definition.version,
    flow: flowOf(definition),
    handWritten: definition.flow === null,
    steps: [...definition.steps.values()].map((step) => ({
      name: step.name,
      compensation: step.compensation?.name ?? null,
      maxAttempts: step.retryPolicy.maxAttempts,
      timeoutMs: step.attemptTimeoutMs,
      nonRetryable: step.nonRetryable ?? [],
    })),
    machine: machineGraph(definition.machine),
  };
}

/** The Sagas page: every definition the console loaded from the saga files. */
export function sagaRoutes(app: FastifyInstance, context: ConsoleContext): void {
  app.get('/api/sagas', () => {
    const registry = context.registry;
    if (registry === null) return { loaded: false, sagas: [] };
    const sagas = registry.list().flatMap((key) => {
      const at = key.lastIndexOf('@');
      const definition = registry.get(key.slice(0, at), Number(key.slice(at + 1)));
      return definition === undefined ? [] : [definitionView(definition)];
    });
    return { loaded: true, sagas };
  });
}
