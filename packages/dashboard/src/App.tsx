import { FlowScaleProvider } from '@flowscale/react';
import { FlowScaleError } from 'flowscale';
import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { createClient } from './api';
import { type Session, SessionContext } from './auth';
import { Loading } from './components/bits';
import { Runs } from './pages/Runs';
import { SignIn } from './pages/SignIn';
import { href, type Route, useRoute } from './route';
import { forgetKey, savedKey, saveKey } from './session';

// The runs list is the page most visits open on: only it is in the first script, the rest load on demand.
const RunDetail = lazy(() => import('./pages/RunDetail').then((m) => ({ default: m.RunDetail })));
const TryIt = lazy(() => import('./pages/TryIt').then((m) => ({ default: m.TryIt })));
const Workflows = lazy(() => import('./pages/Workflows').then((m) => ({ default: m.Workflows })));
const Fleet = lazy(() => import('./pages/Fleet').then((m) => ({ default: m.Fleet })));
const Keys = lazy(() => import('./pages/Keys').then((m) => ({ default: m.Keys })));

const TABS = [
  { id: 'runs', label: 'Runs' },
  { id: 'workflows', label: 'Workflows' },
  { id: 'fleet', label: 'Fleet' },
  { id: 'keys', label: 'Keys', admin: true },
] as const;

export function App() {
  const [apiKey, setApiKey] = useState<string | null>(savedKey);
  const [isAdmin, setIsAdmin] = useState<boolean | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const route = useRoute();

  const signOut = useCallback((message?: string) => {
    forgetKey();
    setApiKey(null);
    setIsAdmin(null);
    setNotice(message ?? null);
  }, []);
  // The client reports 401s from any request, including those of pages about to unmount.
  const signOutRef = useRef(signOut);
  signOutRef.current = signOut;

  const client = useMemo(
    () =>
      apiKey
        ? createClient(apiKey, (message) => signOutRef.current(`Signed out: ${message}. Sign in again.`))
        : null,
    [apiKey],
  );

  // Whether the key is an admin decides which pages and actions show (the server enforces it anyway).
  useEffect(() => {
    if (!client) return;
    let live = true;
    client.listApiKeys().then(
      () => live && setIsAdmin(true),
      // A 401 has already signed out; a 403 (or anything else) means a user key.
      (error) => live && !(error instanceof FlowScaleError && error.status === 401) && setIsAdmin(false),
    );
    return () => {
      live = false;
    };
  }, [client]);

  const onSignedIn = (key: string) => {
    saveKey(key);
    setNotice(null);
    setApiKey(key);
  };

  // The page does not wait for the admin check: admin-only parts appear when it answers.
  const session: Session | null = client && apiKey ? { client, apiKey, isAdmin, signOut } : null;

  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <a className="brand" href={href(['runs'])}>
          FlowScale
        </a>
        {session && (
          <nav aria-label="Main">
            <ul>
              {TABS.filter((tab) => !('admin' in tab) || session.isAdmin).map((tab) => (
                <li key={tab.id}>
                  <a href={href([tab.id])} aria-current={current(route) === tab.id ? 'page' : undefined}>
                    {tab.label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
        )}
        {session && (
          <button type="button" className="link" onClick={() => signOut('You signed out.')}>
            Sign out
          </button>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {!apiKey && <SignIn notice={notice} onSignedIn={onSignedIn} />}
        {session && (
          <SessionContext.Provider value={session}>
            <FlowScaleProvider client={session.client}>
              <Suspense fallback={<Loading what="the page" />}>
                <Page route={route} />
              </Suspense>
            </FlowScaleProvider>
          </SessionContext.Provider>
        )}
      </main>
    </>
  );
}

const current = (route: Route): string => route.path[0] ?? 'runs';

function Page({ route }: { route: Route }) {
  const [section, id] = route.path;
  useEffect(() => {
    document.title = `${section ? section[0]?.toUpperCase() + section.slice(1) : 'Runs'} · FlowScale dashboard`;
  }, [section]);
  switch (section) {
    case 'workflows':
      return id ? <TryIt workflowId={id} /> : <Workflows />;
    case 'fleet':
      return <Fleet />;
    case 'keys':
      return <Keys />;
    case 'runs':
    case undefined:
      return id ? <RunDetail key={id} runId={id} /> : <Runs params={route.params} />;
    default:
      return <p role="alert">No page {section}.</p>;
  }
}
