import { describe, expect, it } from 'vitest';
import { clientResponseHeaders, upstreamRequestHeaders } from '../src/core/headers';
import { createRateLimiter } from '../src/core/rate-limit';
import { matchRoute } from '../src/core/routes';

describe('matchRoute', () => {
  it.each([
    ['GET', '/api/v1/comfy/health', 'health'],
    ['GET', '/api/v1/comfy/queue', 'queue'],
    ['GET', '/api/v1/comfy/workflows', 'workflows'],
    ['GET', '/api/v1/comfy/workflows/invert-image', 'workflows'],
    ['POST', '/api/v1/runs', 'run'],
    ['GET', '/api/v1/runs', 'getRuns'],
    ['GET', '/api/v1/runs/output', 'output'],
    ['GET', '/api/v1/runs/abc-123', 'getRun'],
    ['POST', '/api/v1/runs/abc-123/cancel', 'cancel'],
    ['GET', '/api/v1/runs/abc-123/events', 'events'],
  ])('%s %s is %s', (method, path, operation) => {
    const match = matchRoute(method, path);
    expect('route' in match && match.route.operation).toBe(operation);
  });

  it.each([
    ['GET', '/api/v1/admin/keys'],
    ['POST', '/api/v1/admin/workflows'],
    ['GET', '/api/v1/ws'],
    ['GET', '/api/v1/runs/a%2F..%2F..%2Fadmin/events'],
    ['GET', '/api/v1/runs/..'],
    ['GET', '/other'],
  ])('refuses %s %s', (method, path) => {
    expect(matchRoute(method, path)).toEqual({ error: 'not_found' });
  });

  it('refuses the wrong method', () => {
    expect(matchRoute('DELETE', '/api/v1/runs/abc')).toEqual({ error: 'method_not_allowed' });
    expect(matchRoute('GET', '/api/v1/runs/abc/cancel')).toEqual({ error: 'method_not_allowed' });
  });
});

describe('headers', () => {
  it('forwards an allow-list and replaces every credential with the secret key', () => {
    const incoming = new Headers({
      'content-type': 'multipart/form-data; boundary=x',
      'idempotency-key': 'k1',
      'last-event-id': '4',
      'x-api-key': 'client-supplied',
      authorization: 'Bearer user-jwt',
      cookie: 'session=1',
      origin: 'https://evil.example',
      connection: 'keep-alive, x-custom',
      'keep-alive': 'timeout=5',
      'proxy-authorization': 'Basic abc',
      te: 'trailers',
      'x-custom': 'hop',
    });
    const out = upstreamRequestHeaders(incoming, 'secret', ['x-custom', 'authorization']);
    expect(out.get('x-api-key')).toBe('secret');
    expect(out.get('content-type')).toBe('multipart/form-data; boundary=x');
    expect(out.get('idempotency-key')).toBe('k1');
    expect(out.get('last-event-id')).toBe('4');
    for (const h of [
      'authorization',
      'cookie',
      'origin',
      'connection',
      'keep-alive',
      'proxy-authorization',
      'te',
    ]) {
      expect(out.has(h), h).toBe(false);
    }
  });

  it('strips hop-by-hop and cookie headers from replies', () => {
    const out = clientResponseHeaders(
      new Headers({
        'content-type': 'text/event-stream',
        connection: 'keep-alive, x-hop',
        'x-hop': '1',
        'keep-alive': 'timeout=5',
        'transfer-encoding': 'chunked',
        'set-cookie': 'a=b',
        'retry-after': '3',
      }),
    );
    expect([...out.keys()].sort()).toEqual(['content-type', 'retry-after']);
  });
});

describe('rate limiter', () => {
  it('allows a burst, then answers with the wait until the next token', () => {
    const limiter = createRateLimiter({ limit: 3, windowMs: 60_000 });
    const t = 1_000_000;
    expect([1, 2, 3].map(() => limiter.take('alice', t).ok)).toEqual([true, true, true]);
    expect(limiter.take('alice', t)).toEqual({ ok: false, retryAfterSeconds: 20 });
    expect(limiter.take('bob', t).ok).toBe(true);
    expect(limiter.take('alice', t + 20_000).ok).toBe(true);
    expect(limiter.take('alice', t + 20_000).ok).toBe(false);
  });
});
