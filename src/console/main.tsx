/**
 * The Nimbus console: signed in with a one-time login URL (`nimbus console`), then the
 * topology (home), the resources, reachability and load-balancer traffic, all through the REST
 * API with the session cookie, refreshed every two seconds.
 */
import { StrictMode, useCallback, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { api, ApiError, currentProject, setProject, snapshot, type Snapshot } from './api';
import { Topology } from './topology';
import { Resources } from './resources';
import { Reach } from './reach';
import { Traffic } from './traffic';
import { FlowPanel } from './flows';

type Tab = 'topology' | 'resources' | 'reachability' | 'traffic';
const TABS: [Tab, string][] = [
  ['topology', 'Topology'],
  ['resources', 'Resources'],
  ['reachability', 'Reachability'],
  ['traffic', 'Load balancer traffic'],
];

/** Trades a `?login=` token for the session cookie, and takes it out of the address bar. */
async function signIn(): Promise<void> {
  const token = new URLSearchParams(location.search).get('login');
  if (!token) return;
  history.replaceState(null, '', '/');
  await api('POST', '/console/login', { token });
}

function App() {
  const [signed, setSigned] = useState<'checking' | 'yes' | 'no'>('checking');
  const [why, setWhy] = useState('');
  const [tab, setTab] = useState<Tab>((location.hash.slice(1) as Tab) || 'topology');
  const [snap, setSnap] = useState<Snapshot | null>(null);
  const [projects, setProjects] = useState<string[]>([]);
  const [project, choose] = useState(currentProject());
  /** Why the last refresh failed (the daemon down, or another refusal), until one succeeds. */
  const [down, setDown] = useState<string | null>(null);
  const refresh = useCallback(() => {
    snapshot().then(
      (s) => {
        setSnap(s);
        setDown(null);
      },
      (e: ApiError) => {
        if (e.status === 401) setSigned('no');
        setWhy(`${e.code}: ${e.message}`);
        setDown(e.message);
      },
    );
  }, []);
  /**
   * The data plane's count of changes seen just after the user's last change here: that change
   * is in effect once a finished pass has taken in that many (as the CLI's --wait).
   */
  const [waitFor, setWaitFor] = useState<number | null>(null);
  const changed = useCallback(() => {
    void api<Snapshot['status']>('GET', '/v1/status').then(
      (s) => setWaitFor(s.dataplane.changes?.seen ?? null),
      () => setWaitFor(null),
    );
    refresh();
  }, [refresh]);
  useEffect(() => {
    signIn()
      .then(() => api('GET', '/v1/status'))
      .then(
        () => setSigned('yes'),
        (e: ApiError) => {
          setSigned('no');
          setWhy(`${e.code}: ${e.message}`);
        },
      );
  }, []);
  useEffect(() => {
    if (signed !== 'yes') return;
    void api<{ name: string }[]>('GET', '/v1/projects').then(
      (p) => setProjects(p.map((x) => x.name)),
      () => setProjects([]),
    );
    refresh();
    const t = setInterval(refresh, 2000);
    return () => clearInterval(t);
  }, [signed, project, refresh]);
  useEffect(() => {
    location.hash = tab;
  }, [tab]);
  if (signed === 'checking') return <p className="center">Signing in…</p>;
  if (signed === 'no')
    return (
      <div className="center signin">
        <h1>Nimbus console</h1>
        <p>
          Sign in with a login URL: run <code>nimbus console</code> and open the address it prints.
        </p>
        {why && <p className="form-error">{why}</p>}
      </div>
    );
  return (
    <>
      <header>
        <b>Nimbus</b>
        <nav>
          {TABS.map(([t, label]) => (
            <button key={t} className={t === tab ? 'active' : ''} onClick={() => setTab(t)}>
              {label}
            </button>
          ))}
        </nav>
        <span className="grow" />
        {projects.length > 1 && (
          <label>
            project{' '}
            <select
              id="project"
              value={project || 'default'}
              onChange={(e) => {
                setProject(e.target.value === 'default' ? '' : e.target.value);
                choose(e.target.value);
                setSnap(null);
              }}
            >
              {projects.map((p) => (
                <option key={p}>{p}</option>
              ))}
            </select>
          </label>
        )}
        {down ? (
          <span className="plane down" role="status" title={down}>
            daemon not answering
          </span>
        ) : (
          snap && (
            <span className={`plane ${snap.status.dataplane.converged ? 'ok' : 'pending'}`}>
              {snap.status.dataplane.kind} data plane {snap.status.dataplane.converged ? 'converged' : 'converging'}
            </span>
          )
        )}
        {snap && waitFor !== null && snap.status.dataplane.changes && (
          <span className={`plane ${snap.status.dataplane.changes.done >= waitFor ? 'ok' : 'pending'}`} role="status" data-testid="change-state">
            {snap.status.dataplane.changes.done >= waitFor ? 'your change is in effect' : 'your change is on its way'}
          </span>
        )}
      </header>
      <main>
        {!snap ? (
          <p>Loading…</p>
        ) : tab === 'topology' ? (
          <>
            <Topology snap={snap} />
            <FlowPanel snap={snap} />
            <ul className="a11y-list" aria-label="resources in the topology">
              {snap.vpcs.map((v) => (
                <li key={v.id}>
                  VPC {v.name} {v.cidr}
                </li>
              ))}
            </ul>
          </>
        ) : tab === 'resources' ? (
          <Resources snap={snap} refresh={changed} />
        ) : tab === 'reachability' ? (
          <Reach snap={snap} />
        ) : (
          <Traffic snap={snap} />
        )}
      </main>
    </>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
