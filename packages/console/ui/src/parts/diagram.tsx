/** An instance's steps as boxes, in the saga's order, parallel groups side by side, each coloured by where it stands. */

export interface DiagramStep {
  readonly name: string;
  readonly compensation: string | null;
  readonly state: string;
  readonly attempts: number;
  readonly compensationAttempts: number;
}
export type DiagramItem = { readonly kind: 'step'; readonly step: DiagramStep } | { readonly kind: 'parallel'; readonly name: string; readonly steps: readonly DiagramStep[] };

const labels: Record<string, string> = {
  notReached: 'not reached',
  running: 'running',
  done: 'done',
  failed: 'failed',
  timedOut: 'timed out',
  compensating: 'compensating',
  compensated: 'compensated',
  compensationFailed: 'compensation failed',
};

function StepBox({ step }: { readonly step: DiagramStep }) {
  return (
    <div class={`step step-${step.state}`} data-step={step.name} data-state={step.state} title={`${step.name}: ${labels[step.state] ?? step.state}`}>
      <strong>{step.name}</strong>
      <span class="state">{labels[step.state] ?? step.state}</span>
      <span class="attempts">
        {step.attempts} attempt(s)
        {step.compensation !== null && step.compensationAttempts > 0 ? `, ${step.compensation} ×${step.compensationAttempts}` : ''}
      </span>
    </div>
  );
}

export function Diagram({ items }: { readonly items: readonly DiagramItem[] }) {
  return (
    <div class="diagram" aria-label="Steps">
      {items.map((item, at) => (
        <>
          {at > 0 && <span class="arrow">→</span>}
          {item.kind === 'step' ? (
            <StepBox step={item.step} />
          ) : (
            <div class="parallel" data-group={item.name}>
              <span class="group">{item.name} (parallel)</span>
              {item.steps.map((step) => (
                <StepBox step={step} />
              ))}
            </div>
          )}
        </>
      ))}
    </div>
  );
}

export const stateLegend = labels;
