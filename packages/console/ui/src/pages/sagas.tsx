import { useEffect, useState } from 'preact/hooks';
import { get } from '../api.js';
import { duration } from '../parts/format.js';
import { MachineGraph, type GraphEdge, type GraphNode } from '../parts/graph.js';

interface SagaView {
  readonly name: string;
  readonly version: number;
  readonly flow: readonly ({ kind: 'step'; name: string } | { kind: 'parallel'; name: string; steps: readonly string[] })[];
  readonly handWritten: boolean;
  readonly steps: readonly { name: string; compensation: string | null; maxAttempts: number; timeoutMs: number; nonRetryable: readonly string[] }[];
  readonly machine: { readonly nodes: readonly GraphNode[]; readonly edges: readonly GraphEdge[] };
}

/** Every saga definition the console loaded: its steps, flow and machine. */
export function SagasPage() {
  const [sagas, setSagas] = useState<{ loaded: boolean; sagas: readonly SagaView[] } | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    get<{ loaded: boolean; sagas: SagaView[] }>('/api/sagas').then(setSagas, (error: Error) => setProblem(error.message));
  }, []);
  return (
    <section>
      <h2>Sagas</h2>
      {problem !== null && (
        <p class="refused" role="alert">
          {problem}
        </p>
      )}
      {sagas !== null && !sagas.loaded && <p class="hint">The console was started without saga files (--sagas DIR): it has no definitions to show.</p>}
      {sagas?.sagas.map((saga) => (
        <article class="saga" data-saga={`${saga.name}@${saga.version}`}>
          <h3>
            {saga.name}@{saga.version}
          </h3>
          <p class="flow">
            {saga.handWritten ? 'hand-written machine; steps: ' : ''}
            {saga.flow.map((item) => (item.kind === 'step' ? item.name : `[${item.steps.join(' ∥ ')}]`)).join(' → ')}
          </p>
          <table>
            <thead>
              <tr>
                <th>Step</th>
                <th>Compensation</th>
                <th>Attempts</th>
                <th>Timeout</th>
                <th>Never retried</th>
              </tr>
            </thead>
            <tbody>
              {saga.steps.map((step) => (
                <tr>
                  <td>{step.name}</td>
                  <td>{step.compensation ?? '–'}</td>
                  <td class="number">{step.maxAttempts}</td>
                  <td class="number">{duration(step.timeoutMs)}</td>
                  <td>{step.nonRetryable.join(', ') || '–'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <details>
            <summary>State machine ({saga.machine.nodes.length} states)</summary>
            <MachineGraph nodes={saga.machine.nodes} edges={saga.machine.edges} />
          </details>
        </article>
      ))}
    </section>
  );
}
