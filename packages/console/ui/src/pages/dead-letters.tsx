import { useCallback, useEffect, useState } from 'preact/hooks';
import { get, post, type Session } from '../api.js';
import { when } from '../parts/format.js';
import { ReasonDialog } from '../parts/reason-dialog.js';

interface LetterRow {
  readonly sequence: number;
  readonly reason: string;
  readonly deliveries: number;
  readonly deadAt: number | null;
  readonly originSubject: string;
  readonly instanceId: string | null;
  readonly effectId: string | null;
  readonly size: number;
}
interface Letter extends LetterRow {
  readonly headers: Record<string, readonly string[]>;
  readonly payload: { readonly size: number; readonly encoding: string; readonly text: string };
}

/** Dead letters: the list, one letter's headers and payload, and replaying or discarding it with a reason. */
export function DeadLettersPage({ session }: { readonly session: Session }) {
  const [letters, setLetters] = useState<readonly LetterRow[] | null>(null);
  const [open, setOpen] = useState<Letter | null>(null);
  const [asking, setAsking] = useState<'replay' | 'discard' | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const load = useCallback(() => {
    get<{ letters: LetterRow[] }>('/api/dead-letters?limit=200').then(
      (page) => setLetters(page.letters),
      (error: Error) => setProblem(error.message),
    );
  }, []);
  useEffect(load, [load]);
  const show = (sequence: number): void => {
    get<Letter>(`/api/dead-letters/${sequence}`).then(setOpen, (error: Error) => setProblem(error.message));
  };
  const act = async (action: 'replay' | 'discard', reason: string): Promise<void> => {
    if (open === null) return;
    await post(`/api/dead-letters/${open.sequence}/${action}`, { reason });
    setNotice(`Dead letter ${open.sequence} ${action === 'replay' ? `replayed to ${open.originSubject}` : 'discarded'}`);
    setOpen(null);
    load();
  };
  return (
    <section>
      <h2>Dead letters</h2>
      {problem !== null && (
        <p class="refused" role="alert">
          {problem}
        </p>
      )}
      {notice !== null && <p class="notice">{notice}</p>}
      {letters !== null && letters.length === 0 && <p class="empty">No dead letters.</p>}
      {letters !== null && letters.length > 0 && (
        <table class="letters">
          <thead>
            <tr>
              <th>Seq</th>
              <th>Dead at</th>
              <th>Origin</th>
              <th>Instance</th>
              <th>Deliveries</th>
              <th>Reason</th>
            </tr>
          </thead>
          <tbody>
            {letters.map((letter) => (
              <tr data-letter={letter.sequence}>
                <td>
                  <button type="button" class="link" onClick={() => show(letter.sequence)}>
                    {letter.sequence}
                  </button>
                </td>
                <td>{when(letter.deadAt)}</td>
                <td>{letter.originSubject}</td>
                <td>{letter.instanceId === null ? '–' : <a href={`/instances/${encodeURIComponent(letter.instanceId)}`}>{letter.instanceId}</a>}</td>
                <td class="number">{letter.deliveries}</td>
                <td>{letter.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {open !== null && (
        <div class="letter" aria-label={`Dead letter ${open.sequence}`}>
          <h3>Dead letter {open.sequence}</h3>
          <p>
            {open.reason} — from <code>{open.originSubject}</code>, delivered {open.deliveries} time(s)
          </p>
          <h4>Headers</h4>
          <table class="headers">
            <tbody>
              {Object.entries(open.headers).map(([name, values]) => (
                <tr>
                  <th>{name}</th>
                  <td>{values.join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h4>
            Payload ({open.payload.size} bytes, {open.payload.encoding === 'utf8' ? 'text' : 'binary, as hex'})
          </h4>
          <pre>{open.payload.text}</pre>
          {!session.readOnly && (
            <div class="actions">
              <button type="button" onClick={() => setAsking('replay')} disabled={session.operator === null}>
                Replay
              </button>
              <button type="button" onClick={() => setAsking('discard')} disabled={session.operator === null}>
                Discard
              </button>
            </div>
          )}
        </div>
      )}
      {asking !== null && open !== null && (
        <ReasonDialog title={`${asking === 'replay' ? 'Replay' : 'Discard'} dead letter ${open.sequence}`} onConfirm={(reason) => act(asking, reason)} onClose={() => setAsking(null)} />
      )}
    </section>
  );
}
