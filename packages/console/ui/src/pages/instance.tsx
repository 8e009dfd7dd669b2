import { useCallback, useEffect, useState } from 'preact/hooks';
import { get, post, type InstanceRow, type Session } from '../api.js';
import { Diagram, stateLegend, type DiagramItem } from '../parts/diagram.js';
import { duration, json, when } from '../parts/format.js';
import { useLive } from '../parts/live.js';
import { ReasonDialog } from '../parts/reason-dialog.js';
import { Status } from '../parts/status.js';

interface Entry {
  readonly revision: number;
  readonly at: number;
  readonly type: string;
  readonly status: string;
  readonly statusChanged: boolean;
  readonly kind: string;
  readonly step: string | null;
  readonly attempt: number | null;
  readonly outcome: string;
  readonly durationMs: number | null;
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly operator: { readonly action: string; readonly by: string; readonly reason: string } | null;
}
interface Failure {
  readonly step: string | null;
  readonly code: string;
  readonly message: string;
}
interface Detail {
  readonly instance: InstanceRow;
  readonly history: {
    readonly input: unknown;
    readonly trace: { readonly traceId: string } | null;
    readonly timeline: readonly Entry[];
    readonly failure: Failure | null;
    readonly stuck: (Failure & { readonly kind: string }) | null;
  };
  readonly diagram: readonly DiagramItem[];
  readonly definitionKnown: boolean;
  /** The instance's trace in the team's tracing tool, when the console was given a link template. */
  readonly traceUrl: string | null;
}

const actions = [
  { action: 'retry', title: 'Retry', help: 'give the stuck step or compensation a fresh retry budget' },
  { action: 'abort', title: 'Abort', help: 'stop and compensate what ran' },
  { action: 'resume', title: 'Resume', help: 'send again what it waits for' },
  { action: 'skip', title: 'Skip step', help: 'mark a stuck compensation as done by hand' },
] as const;

/** One instance: input, status, failure, the diagram of its steps, its timeline, and the repairs. */
export function InstancePage({ id, session }: { readonly id: string; readonly session: Session }) {
  const [detail, setDetail] = useState<Detail | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [asking, setAsking] = useState<(typeof actions)[number] | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const load = useCallback(() => {
    get<Detail>(`/api/instances/${encodeURIComponent(id)}`).then(
      (loaded) => {
        setDetail(loaded);
        setProblem(null);
      },
      (error: Error) => setProblem(error.message),
    );
  }, [id]);
  useEffect(load, [load]);
  useLive(useCallback((row: InstanceRow) => row.instanceId === id && load(), [id, load]));

  if (problem !== null && detail === null) return <p class="refused" role="alert">{problem}</p>;
  if (detail === null) return <p>Loading…</p>;
  const { instance, history } = detail;
  const steps = detail.diagram.flatMap((item) => (item.kind === 'step' ? [item.step.name] : item.steps.map((step) => step.name)));
  const act = async (action: string, reason: string, step: string | undefined): Promise<void> => {
    const answer = await post<{ instance: InstanceRow }>(`/api/instances/${encodeURIComponent(id)}/${action}`, { reason, ...(step === undefined ? {} : { step }) });
    setDone(`${action} recorded: now ${answer.instance.status}`);
    load();
  };

  return (
    <section>
      <h2>
        {instance.instanceId} <Status status={instance.status} />
      </h2>
      <dl class="facts">
        <dt>Saga</dt>
        <dd>
          {instance.saga}@{instance.version}
        </dd>
        <dt>Current step</dt>
        <dd>{instance.currentStep ?? '–'}</dd>
        <dt>Started</dt>
        <dd>{when(instance.startedAt)}</dd>
        <dt>Last change</dt>
        <dd>{when(instance.updatedAt)}</dd>
        {history.trace !== null && (
          <>
            <dt>Trace</dt>
            <dd>
              {detail.traceUrl === null ? (
                <code>{history.trace.traceId}</code>
              ) : (
                <a href={detail.traceUrl} target="_blank" rel="noopener noreferrer">
                  <code>{history.trace.traceId}</code>
                </a>
              )}
            </dd>
          </>
        )}
        {history.failure !== null && (
          <>
            <dt>Failure</dt>
            <dd class="failure">
              {history.failure.step ?? ''} {history.failure.code}: {history.failure.message}
            </dd>
          </>
        )}
        {history.stuck !== null && (
          <>
            <dt>Stuck on</dt>
            <dd class="failure">
              {history.stuck.kind} {history.stuck.step ?? ''}: {history.stuck.code} {history.stuck.message}
            </dd>
          </>
        )}
      </dl>
      {!session.readOnly && (
        <div class="actions">
          {actions.map((action) => (
            <button type="button" title={action.help} onClick={() => setAsking(action)} disabled={session.operator === null}>
              {action.title}
            </button>
          ))}
          {session.operator === null && <span class="hint">Sign in to repair.</span>}
        </div>
      )}
      {done !== null && <p class="notice">{done}</p>}
      {asking !== null && (
        <ReasonDialog
          title={`${asking.title} ${instance.instanceId}`}
          askStep={asking.action === 'skip' ? steps : undefined}
          onConfirm={(reason, step) => act(asking.action, reason, step)}
          onClose={() => setAsking(null)}
        />
      )}
      <h3>Steps</h3>
      {!detail.definitionKnown && <p class="hint">The console was started without this saga's file: the steps are those the instance reached.</p>}
      <Diagram items={detail.diagram} />
      <p class="legend">
        {Object.entries(stateLegend).map(([state, label]) => (
          <span class={`step-key step-${state}`}>{label}</span>
        ))}
      </p>
      <h3>Input</h3>
      <pre>{json(history.input)}</pre>
      <h3>Timeline</h3>
      <table class="timeline">
        <thead>
          <tr>
            <th>#</th>
            <th>At</th>
            <th>Event</th>
            <th>Step</th>
            <th>Attempt</th>
            <th>Outcome</th>
            <th>Duration</th>
            <th>Status</th>
            <th>Detail</th>
          </tr>
        </thead>
        <tbody>
          {history.timeline.map((entry) => (
            <tr class={`kind-${entry.kind}`}>
              <td class="number">{entry.revision}</td>
              <td>{when(entry.at)}</td>
              <td>{entry.type}</td>
              <td>{entry.step ?? '–'}</td>
              <td class="number">{entry.attempt ?? ''}</td>
              <td>{entry.outcome}</td>
              <td class="number">{duration(entry.durationMs)}</td>
              <td>{entry.statusChanged ? <Status status={entry.status} /> : ''}</td>
              <td>
                {entry.error !== null ? `${entry.error.code}: ${entry.error.message}` : ''}
                {entry.operator !== null ? `${entry.operator.action} by ${entry.operator.by}: ${entry.operator.reason}` : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
