/** The page's only credential: a short-lived JWT from the example backend's /login. Never an API key. */
const KEY = 'flowscale-example-token';

export async function signIn(username: string, password: string): Promise<string> {
  const res = await fetch('/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const body = (await res.json().catch(() => ({}))) as { token?: string; errors?: string };
  if (!res.ok || !body.token) throw new Error(body.errors ?? `Sign-in failed (HTTP ${res.status})`);
  sessionStorage.setItem(KEY, body.token);
  return body.token;
}

export const savedToken = (): string | null => sessionStorage.getItem(KEY);
export const signOut = (): void => sessionStorage.removeItem(KEY);

/** The run shown is kept in the URL, so a reload resumes it (useRun replays its events). */
export const runIdFromUrl = (): string | null => new URLSearchParams(location.hash.slice(1)).get('run');
export const putRunIdInUrl = (runId: string | null): void => {
  history.replaceState(null, '', runId ? `#run=${encodeURIComponent(runId)}` : location.pathname);
};
