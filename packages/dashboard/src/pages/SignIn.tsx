import { FlowScaleError } from 'flowscale';
import { type FormEvent, useState } from 'react';
import { createClient } from '../api';
import { errorText } from '../auth';

/** Checks the key against the server before keeping it. */
export function SignIn({ notice, onSignedIn }: { notice: string | null; onSignedIn: (key: string) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const candidate = key.trim();
    if (!candidate) return setError('Enter an API key.');
    setBusy(true);
    setError(null);
    try {
      await createClient(candidate, () => undefined).getWorkflows();
      onSignedIn(candidate);
    } catch (err) {
      setError(
        err instanceof FlowScaleError && err.status === 401
          ? 'That API key was refused: it is wrong or revoked.'
          : `Could not sign in: ${errorText(err)}`,
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="signin" aria-labelledby="signin-title">
      <h1 id="signin-title">Sign in</h1>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <form onSubmit={submit}>
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={key}
          onChange={(e) => setKey(e.target.value)}
          aria-describedby="key-help"
          aria-invalid={error ? true : undefined}
        />
        <p id="key-help" className="hint">
          The key stays in this browser tab (sessionStorage) and is sent only to this server, as the X-API-KEY
          header. Closing the tab or signing out forgets it.
        </p>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </section>
  );
}
