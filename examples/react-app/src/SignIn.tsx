import { type FormEvent, useState } from 'react';
import { signIn } from './session';

export function SignIn({
  onSignedIn,
  notice,
}: {
  onSignedIn: (token: string) => void;
  /** Why the page is back here (a refused session), shown above the form. */
  notice?: string | null;
}) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await signIn(String(form.get('username')), String(form.get('password'))));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card" onSubmit={submit} aria-label="Sign in">
      <h2>Sign in</h2>
      {notice && <p role="status">{notice}</p>}
      <p className="hint">Demo account: demo / demo</p>
      <label>
        Username
        <input name="username" autoComplete="username" defaultValue="demo" required />
      </label>
      <label>
        Password
        <input name="password" type="password" autoComplete="current-password" required />
      </label>
      <button type="submit" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
      {error && <p role="alert">{error}</p>}
    </form>
  );
}
