import { useState } from 'preact/hooks';

/** Asks for the reason of a change (and, for some, a step); the change runs on confirm, its refusal shown in place. */
export function ReasonDialog(props: {
  readonly title: string;
  readonly askStep?: readonly string[] | undefined;
  readonly onConfirm: (reason: string, step: string | undefined) => Promise<void>;
  readonly onClose: () => void;
}) {
  const [reason, setReason] = useState('');
  const [step, setStep] = useState(props.askStep?.[0] ?? '');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      await props.onConfirm(reason, props.askStep === undefined ? undefined : step);
      props.onClose();
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="dialog-backdrop" role="presentation">
      <form class="dialog" role="dialog" aria-label={props.title} onSubmit={(event) => void submit(event)}>
        <h3>{props.title}</h3>
        {props.askStep !== undefined && (
          <label>
            Step
            <select name="step" value={step} onChange={(event) => setStep((event.target as HTMLSelectElement).value)}>
              {props.askStep.map((name) => (
                <option value={name}>{name}</option>
              ))}
            </select>
          </label>
        )}
        <label>
          Reason (recorded with the change)
          <textarea name="reason" required maxLength={500} value={reason} onInput={(event) => setReason((event.target as HTMLTextAreaElement).value)} />
        </label>
        {problem !== null && (
          <p class="refused" role="alert">
            {problem}
          </p>
        )}
        <div class="buttons">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy || reason.trim() === ''}>
            {busy ? 'Sending…' : 'Confirm'}
          </button>
        </div>
      </form>
    </div>
  );
}
