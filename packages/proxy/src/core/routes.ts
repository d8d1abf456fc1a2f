/** The FlowScale operations a browser may be allowed to use through the proxy. */
export const OPERATIONS = [
  'health',
  'queue',
  'workflows',
  'run',
  'getRun',
  'getRuns',
  'cancel',
  'output',
  'events',
  'download',
] as const;

export type Operation = (typeof OPERATIONS)[number];

export interface Route {
  operation: Operation;
  /** The workflow named in the path (`GET /api/v1/comfy/workflows/{idOrName}`). */
  workflow?: string;
  runId?: string;
  /** Authorised by the upstream's own URL signature rather than by `authenticate`. */
  public?: boolean;
}

export type RouteMatch = { route: Route } | { error: 'not_found' | 'method_not_allowed' };

const RUN_ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Maps a method and an API path (already without the proxy's prefix) to an operation. Anything that
 * is not one of the known FlowScale run-time endpoints (admin, WebSocket, unknown paths) is refused,
 * so a new upstream endpoint is never exposed to browsers by accident.
 */
export function matchRoute(method: string, path: string): RouteMatch {
  const parts = path.split('/').filter(Boolean);
  if (parts[0] !== 'api' || parts[1] !== 'v1') return { error: 'not_found' };
  const rest = parts.slice(2).map(safeDecode);
  if (rest.some((p) => p === null)) return { error: 'not_found' };
  const [a, b, c] = rest as string[];
  const read = method === 'GET' || method === 'HEAD';
  const is = (route: Route, ok: boolean): RouteMatch => (ok ? { route } : { error: 'method_not_allowed' });

  if (a === 'comfy' && rest.length === 2 && b === 'health') return is({ operation: 'health' }, read);
  if (a === 'comfy' && rest.length === 2 && b === 'queue') return is({ operation: 'queue' }, read);
  if (a === 'comfy' && b === 'workflows' && rest.length === 2) return is({ operation: 'workflows' }, read);
  if (a === 'comfy' && b === 'workflows' && rest.length === 3 && c) {
    return is({ operation: 'workflows', workflow: c }, read);
  }
  // Signed output downloads: the signature in the query is the credential, so <img src> works.
  if (a === 'files' && rest.length === 2 && b) return is({ operation: 'download', public: true }, read);
  if (a !== 'runs') return { error: 'not_found' };
  if (rest.length === 1)
    return method === 'POST' ? { route: { operation: 'run' } } : is({ operation: 'getRuns' }, read);
  if (!b || !RUN_ID.test(b)) return { error: 'not_found' };
  if (rest.length === 2) {
    return b === 'output' ? is({ operation: 'output' }, read) : is({ operation: 'getRun', runId: b }, read);
  }
  if (rest.length === 3 && c === 'cancel') return is({ operation: 'cancel', runId: b }, method === 'POST');
  if (rest.length === 3 && c === 'events') return is({ operation: 'events', runId: b }, read);
  return { error: 'not_found' };
}

function safeDecode(segment: string): string | null {
  try {
    const decoded = decodeURIComponent(segment);
    // An encoded slash or dot-segment could address a different upstream path than the one checked.
    return decoded.includes('/') || decoded === '.' || decoded === '..' ? null : decoded;
  } catch {
    return null;
  }
}
