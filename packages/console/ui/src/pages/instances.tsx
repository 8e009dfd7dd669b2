import { useCallback, useEffect, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { get, type InstanceRow } from '../api.js';
import { when } from '../parts/format.js';
import { useLive } from '../parts/live.js';
import { Status, statuses } from '../parts/status.js';

interface Page {
  readonly instances: readonly InstanceRow[];
  readonly more: boolean;
  readonly next: string | null;
}

const fields = ['saga', 'prefix', 'startedFrom', 'startedTo', 'changedFrom', 'changedTo'] as const;
type Field = (typeof fields)[number];
/** The time windows, as the filter form labels them. */
const times: readonly (readonly [Field, string])[] = [
  ['startedFrom', 'Started from'],
  ['startedTo', 'to'],
  ['changedFrom', 'Changed from'],
  ['changedTo', 'to'],
];
type Filter = Partial<Record<Field, string>> & { readonly status: readonly string[] };

/** `datetime-local` (taken as UTC) → ISO, and back. */
const toIso = (local: string): string => (local === '' ? '' : local.length === 16 ? `${local}:00Z` : `${local}Z`);
const fromIso = (iso: string | undefined): string => (iso === undefined ? '' : iso.slice(0, 16));

function filterOf(search: URLSearchParams): Filter {
  const filter: Partial<Record<Field, string>> = {};
  for (const field of fields) {
    const value = search.get(field);
    if (value !== null && value !== '') filter[field] = value;
  }
  return { ...filter, status: search.getAll('status') };
}

function queryOf(filter: Filter, after: string | null): string {
  const search = new URLSearchParams();
  for (const field of fields) if (filter[field] !== undefined) search.set(field, filter[field]);
  for (const status of filter.status) search.append('status', status);
  if (after !== null) search.set('after', after);
  return search.toString();
}

/** Instances: filtered, newest change first, a page at a time, rows changing live. */
export function InstancesPage() {
  const location = useLocation();
  const filter = filterOf(new URLSearchParams(location.query));
  const [draft, setDraft] = useState<Filter>(filter);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [page, setPage] = useState<Page | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [fresh, setFresh] = useState(0);
  const query = queryOf(filter, null);
  const after = cursors[cursors.length - 1] ?? null;

  useEffect(() => {
    setProblem(null);
    get<Page>(`/api/instances?${queryOf(filter, after)}`).then(setPage, (error: Error) => setProblem(error.message));
  }, [query, after]);

  useLive(
    useCallback((row: InstanceRow) => {
      let shown = false;
      setPage((current) => {
        if (current === null) return current;
        shown = current.instances.some((instance) => instance.instanceId === row.instanceId);
        return shown ? { ...current, instances: current.instances.map((instance) => (instance.instanceId === row.instanceId ? row : instance)) } : current;
      });
      if (!shown) setFresh((count) => count + 1);
    }, []),
  );

  const apply = (event: Event): void => {
    event.preventDefault();
    setCursors([null]);
    setFresh(0);
    location.route(`/instances?${queryOf(draft, null)}`);
  };
  const set = (field: Field) => (event: Event) => setDraft({ ...draft, [field]: (event.target as HTMLInputElement).value });
  const setTime = (field: Field) => (event: Event) => setDraft({ ...draft, [field]: toIso((event.target as HTMLInputElement).value) });
  const toggle = (status: string) => () => setDraft({ ...draft, status: draft.status.includes(status) ? draft.status.filter((s) => s !== status) : [...draft.status, status] });

  return (
    <section>
      <h2>Instances</h2>
      <form class="filters" onSubmit={apply} aria-label="Filter instances">
        <label>
          Saga <input name="saga" value={draft.saga ?? ''} onInput={set('saga')} placeholder="any" />
        </label>
        <label>
          Id starts with <input name="prefix" value={draft.prefix ?? ''} onInput={set('prefix')} />
        </label>
        <fieldset class="statuses">
          <legend>Status</legend>
          {statuses.map((status) => (
            <label>
              <input type="checkbox" name="status" value={status} checked={draft.status.includes(status)} onChange={toggle(status)} /> {status}
            </label>
          ))}
        </fieldset>
        {times.map(([field, label]) => (
          <label>
            {label} <input type="datetime-local" name={field} value={fromIso(draft[field])} onInput={setTime(field)} />
          </label>
        ))}
        <button type="submit" class="primary">
          Filter
        </button>
      </form>
      {problem !== null && (
        <p class="refused" role="alert">
          {problem}
        </p>
      )}
      {fresh > 0 && (
        <p class="notice">
          {fresh} other change(s) since this page was read.{' '}
          <button
            type="button"
            onClick={() => {
              setFresh(0);
              setCursors([null]);
              get<Page>(`/api/instances?${queryOf(filter, null)}`).then(setPage, (error: Error) => setProblem(error.message));
            }}
          >
            Show the newest
          </button>
        </p>
      )}
      {page !== null && (
        <>
          <table class="instances">
            <thead>
              <tr>
                <th>Instance</th>
                <th>Saga</th>
                <th>Status</th>
                <th>Current step</th>
                <th>Attempts</th>
                <th>Started</th>
                <th>Last change</th>
              </tr>
            </thead>
            <tbody>
              {page.instances.map((row) => (
                <tr key={row.instanceId} data-instance={row.instanceId}>
                  <td>
                    <a href={`/instances/${encodeURIComponent(row.instanceId)}`}>{row.instanceId}</a>
                  </td>
                  <td>
                    {row.saga}@{row.version}
                  </td>
                  <td>
                    <Status status={row.status} />
                  </td>
                  <td>{row.currentStep ?? '–'}</td>
                  <td class="number">{row.attempts}</td>
                  <td>{when(row.startedAt)}</td>
                  <td>{when(row.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {page.instances.length === 0 && <p class="empty">No instance matches.</p>}
          <div class="pager">
            <button type="button" disabled={cursors.length === 1} onClick={() => setCursors(cursors.slice(0, -1))}>
              Newer
            </button>
            <span>page {cursors.length}</span>
            <button type="button" disabled={!page.more} onClick={() => setCursors([...cursors, page.next])}>
              Older
            </button>
          </div>
        </>
      )}
    </section>
  );
}
