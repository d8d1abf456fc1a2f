import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFlowScaleProxy, jwtAuthenticator } from '../src/index';
import { API_KEY, startUpstream } from './support/fixture';

describe('jwtAuthenticator with a JWKS endpoint', () => {
  let jwks: http.Server;
  let jwksUrl: string;
  let privateKey: CryptoKey;
  let otherKey: CryptoKey;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    privateKey = pair.privateKey;
    otherKey = (await generateKeyPair('RS256')).privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    jwks.listen(0, '127.0.0.1');
    await once(jwks, 'listening');
    jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  afterAll(() => new Promise<void>((resolve) => jwks.close(() => resolve())));

  const token = (key: CryptoKey, claims: { iss?: string; aud?: string; sub?: string }) => {
    let jwt = new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setExpirationTime('5m');
    if (claims.sub) jwt = jwt.setSubject(claims.sub);
    if (claims.iss) jwt = jwt.setIssuer(claims.iss);
    if (claims.aud) jwt = jwt.setAudience(claims.aud);
    return jwt.sign(key);
  };
  const request = (jwt: string) =>
    new Request('http://app/x', { headers: { authorization: `Bearer ${jwt}` } });

  it('accepts a token signed by a key in the set, with the right issuer and audience', async () => {
    const authenticate = jwtAuthenticator({ jwksUrl, issuer: 'idp', audience: 'app' });
    const good = await token(privateKey, { sub: 'carol', iss: 'idp', aud: 'app' });
    expect(await authenticate(request(good))).toMatchObject({ id: 'carol', claims: { sub: 'carol' } });
    for (const bad of [
      await token(otherKey, { sub: 'carol', iss: 'idp', aud: 'app' }), // not our key
      await token(privateKey, { sub: 'carol', iss: 'evil', aud: 'app' }),
      await token(privateKey, { sub: 'carol', iss: 'idp', aud: 'other-app' }),
      await token(privateKey, { iss: 'idp', aud: 'app' }), // no subject, no caller
    ]) {
      expect(await authenticate(request(bad))).toBeNull();
    }
  });

  it('refuses an HMAC token when only asymmetric keys are configured (algorithm confusion)', async () => {
    const authenticate = jwtAuthenticator({ jwksUrl });
    const hmac = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .setSubject('mallory')
      .sign(new TextEncoder().encode('guessable'));
    expect(await authenticate(request(hmac))).toBeNull();
  });

  it('needs exactly one key source', () => {
    expect(() => jwtAuthenticator({})).toThrow(TypeError);
    expect(() => jwtAuthenticator({ secret: 's', jwksUrl })).toThrow(TypeError);
  });
});

describe('the core handler on its own (Web Request in, Response out)', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  beforeAll(async () => {
    upstream = await startUpstream();
  });
  afterAll(() => upstream?.close());

  it('serves under a prefix and refuses paths outside it', async () => {
    const proxy = createFlowScaleProxy({
      upstream: upstream.recorder.url,
      apiKey: API_KEY,
      authenticate: () => ({ id: 'anyone' }),
      prefix: '/flowscale',
    });
    const ok = await proxy(new Request('http://app.example/flowscale/api/v1/comfy/health'));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ status: 'success' });
    expect((await proxy(new Request('http://app.example/api/v1/comfy/health'))).status).toBe(404);
    expect(upstream.recorder.seen.map((s) => s.path)).toEqual(['/api/v1/comfy/health']);
  });

  it('caps the event streams one caller holds open, and frees a slot when one ends', async () => {
    const proxy = createFlowScaleProxy({
      upstream: upstream.recorder.url,
      apiKey: API_KEY,
      authenticate: (request) => ({ id: request.headers.get('x-user') ?? 'anonymous' }),
      maxStreamsPerCaller: 2,
    });
    const submit = new FormData();
    submit.set('value_4', '20');
    const created = await proxy(
      new Request('http://app.example/api/v1/runs?workflow_id=slow-delay', { method: 'POST', body: submit }),
    );
    const runId = ((await created.json()) as { data: { run_id: string } }).data.run_id;
    const events = (user: string) =>
      proxy(new Request(`http://app.example/api/v1/runs/${runId}/events`, { headers: { 'x-user': user } }));

    const first = await events('dave');
    const second = await events('dave');
    expect([first.status, second.status]).toEqual([200, 200]);
    const refused = await events('dave');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await refused.json()).toMatchObject({ code: 'too_many_streams' });
    // Another caller has its own allowance.
    const other = await events('erin');
    expect(other.status).toBe(200);

    await first.body?.cancel();
    const again = await events('dave');
    expect(again.status).toBe(200);
    for (const res of [second, other, again]) await res.body?.cancel();
    await proxy(new Request(`http://app.example/api/v1/runs/${runId}/cancel`, { method: 'POST' }));
  });

  it('answers 502 in the envelope when the upstream is down, without leaking the key', async () => {
    const errors: unknown[] = [];
    const proxy = createFlowScaleProxy({
      upstream: 'http://127.0.0.1:9',
      apiKey: API_KEY,
      authenticate: () => ({ id: 'anyone' }),
      onError: (error) => errors.push(error),
    });
    const res = await proxy(new Request('http://app.example/api/v1/comfy/health'));
    expect(res.status).toBe(502);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ status: 'error', code: 'upstream_unavailable' });
    expect(text).not.toContain(API_KEY);
    expect(errors).toHaveLength(1);
  });

  it('requires an apiKey and an authenticate hook', () => {
    expect(() =>
      createFlowScaleProxy({ upstream: 'http://x', apiKey: '', authenticate: () => null }),
    ).toThrow();
    expect(() =>
      createFlowScaleProxy({ upstream: 'http://x', apiKey: 'k' } as unknown as Parameters<
        typeof createFlowScaleProxy
      >[0]),
    ).toThrow(/authenticate/);
  });
});
