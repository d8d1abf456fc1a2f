import { FlowScaleProvider } from '@flowscale/react';
import { useCallback, useMemo, useState } from 'react';
import { Runner } from './Runner';
import { SignIn } from './SignIn';
import { savedToken, signOut } from './session';

export function App() {
  const [token, setToken] = useState(savedToken);
  const [notice, setNotice] = useState<string | null>(null);
  // A refused session (HTTP 401) drops the token and shows sign-in again, with the reason.
  const onUnauthorized = useCallback((message: string) => {
    signOut();
    setToken(null);
    setNotice(message);
  }, []);
  // proxyMode: the SDK sends no API key, only our session token, to our own backend.
  const config = useMemo(
    () =>
      token
        ? {
            baseUrl: window.location.origin,
            proxyMode: true,
            customHeaders: { Authorization: `Bearer ${token}` },
            enableLogging: false,
          }
        : null,
    [token],
  );

  return (
    <main>
      <header>
        <h1>FlowScale × React</h1>
        {token && (
          <button
            type="button"
            className="link"
            onClick={() => {
              signOut();
              setToken(null);
            }}
          >
            Sign out
          </button>
        )}
      </header>
      {config ? (
        <FlowScaleProvider config={config}>
          <Runner onUnauthorized={onUnauthorized} />
        </FlowScaleProvider>
      ) : (
        <SignIn
          notice={notice}
          onSignedIn={(t) => {
            setNotice(null);
            setToken(t);
          }}
        />
      )}
    </main>
  );
}
