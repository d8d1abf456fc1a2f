import { FlowScaleProvider } from '@flowscale/react';
import { useMemo, useState } from 'react';
import { Runner } from './Runner';
import { SignIn } from './SignIn';
import { savedToken, signOut } from './session';

export function App() {
  const [token, setToken] = useState(savedToken);
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
          <Runner />
        </FlowScaleProvider>
      ) : (
        <SignIn onSignedIn={setToken} />
      )}
    </main>
  );
}
