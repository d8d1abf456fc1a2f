/**
 * Request headers are forwarded by allow-list: everything else (the caller's Authorization and
 * X-API-KEY, cookies, Origin, hop-by-hop headers) stays at the proxy.
 */
const FORWARDED_REQUEST_HEADERS = [
  'accept',
  'accept-language',
  'cache-control',
  'content-length',
  'content-type',
  'idempotency-key',
  'last-event-id',
  'user-agent',
  'x-request-id',
];

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'trailers',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
]);

export function upstreamRequestHeaders(incoming: Headers, apiKey: string, extra: readonly string[]): Headers {
  const out = new Headers();
  for (const name of [...FORWARDED_REQUEST_HEADERS, ...extra.map((h) => h.toLowerCase())]) {
    if (name === 'x-api-key' || name === 'authorization' || name === 'cookie' || isHopByHop(name)) continue;
    const value = incoming.get(name);
    if (value !== null) out.set(name, value);
  }
  out.set('x-api-key', apiKey);
  // fetch would transparently decompress, which would leave a wrong content-encoding on the reply.
  out.set('accept-encoding', 'identity');
  return out;
}

export function clientResponseHeaders(upstream: Headers): Headers {
  const out = new Headers();
  const listedInConnection = new Set(
    (upstream.get('connection') ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
  );
  upstream.forEach((value, name) => {
    if (isHopByHop(name) || listedInConnection.has(name) || name === 'set-cookie') return;
    out.append(name, value);
  });
  if (upstream.has('content-encoding')) {
    // The body reaching us was already decoded by fetch, so its length and encoding no longer apply.
    out.delete('content-encoding');
    out.delete('content-length');
  }
  return out;
}

function isHopByHop(name: string): boolean {
  return HOP_BY_HOP.has(name) || name.startsWith('proxy-');
}
