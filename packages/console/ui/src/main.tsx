import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { LocationProvider, Route, Router, useRoute } from 'preact-iso';
import { get, post, remove, useCsrf, type Session } from './api.js';
import { DeadLettersPage } from './pages/dead-letters.js';
import { InstancePage } from './pages/instance.js';
import { InstancesPage } from './pages/instances.js';
import { OverviewPage } from './pages/overview.js';
import { SagasPage } from './pages/sagas.js';
import './style.css';

function SignIn({ session, onSession }: { readonly session: Session; readonly onSession: (session: Session) => void }) {
  const [name, setName] = useState('');
  const [token, setToken] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const submit = (event: Event): void => {
    event.preventDefault();
    post<Session>('/api/session', { name, token }).then(onSession, (error: Error) => setProblem(error.message));
  };
  return (
    <form class="sign-in" onSubmit={submit} aria-label="Sign in">
      <input name="name" placeholder="Your name" value={name} onInput={(event) => setName((event.target as HTMLInputElement).value)} required />
      {session.tokenRequired && <input name="token" type="password" placeholder="Token" value={token} onInput={(event) => setToken((event.target as HTMLInputElement).value)} required />}
      <button type="submit">Sign in</button>
      {problem !== null && (
        <span class="refused" role="alert">
          {problem}
        </span>
      )}
    </form>
  );
}

function Instance({ session }: { readonly session: Session }) {
  const { params } = useRoute();
  return <InstancePage id={decodeURIComponent(params.id ?? '')} session={session} />;
}

function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const accept = (next: Session): void => {
    useCsrf(next.csrfToken);
    setSession(next);
  };
  useEffect(() => {
    get<Session>('/api/session').then(accept, (error: Error) => setProblem(error.message));
  }, []);
  if (problem !== null) return <p class="refused">{problem}</p>;
  if (session === null) return <p>Loading…</p>;
  const blocked = session.tokenRequired && session.operator === null;
  return (
    <LocationProvider>
      <header>
        <h1>Sagaflow</h1>
        <nav>
          <a href="/">Overview</a>
          <a href="/instances">Instances</a>
          <a href="/dead-letters">Dead letters</a>
          <a href="/sagas">Sagas</a>
        </nav>
        <div class="who">
          {session.readOnly && <span class="badge">read-only</span>}
          {session.operator === null ? (
            <SignIn session={session} onSession={accept} />
          ) : (
            <>
              signed in as <strong>{session.operator}</strong>{' '}
              <button type="button" class="link" onClick={() => void remove<Session>('/api/session').then(accept)}>
                sign out
              </button>
            </>
          )}
        </div>
      </header>
      <main>
        {blocked ? (
          <p class="hint">This console needs a token: sign in above.</p>
        ) : (
          <Router>
            <Route path="/" component={OverviewPage} />
            <Route path="/instances" component={InstancesPage} />
            <Route path="/instances/:id" component={() => <Instance session={session} />} />
            <Route path="/dead-letters" component={() => <DeadLettersPage session={session} />} />
            <Route path="/sagas" component={SagasPage} />
            <Route default component={() => <p>No such page.</p>} />
          </Router>
        )}
      </main>
    </LocationProvider>
  );
}

const root = document.getElementById('app');
if (root !== null) render(<App />, root);
