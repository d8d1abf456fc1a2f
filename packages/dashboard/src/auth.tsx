import { createContext, useContext } from 'react';
import type { DashboardAPI } from './api';

export interface Session {
  client: DashboardAPI;
  apiKey: string;
  /** Null until the server has answered whether the key is an admin's. */
  isAdmin: boolean | null;
  /** Back to sign-in with this message (a 401 anywhere ends up here). */
  signOut: (message?: string) => void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside the signed-in app');
  return session;
}

/** A message fit to show for anything thrown, with the server's field details when there are some. */
export function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const details = (error as { details?: unknown }).details;
  if (Array.isArray(details) && details.length > 0) {
    const lines = details.map((d: { field?: string; message?: string }) =>
      d.field ? `${d.field}: ${d.message ?? ''}` : String(d.message ?? ''),
    );
    return `${error.message} — ${lines.join('; ')}`;
  }
  return error.message;
}
