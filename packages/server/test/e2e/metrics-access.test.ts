import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/harness';

// Issue 12: /metrics names backends and counts runs, so it needs an admin key or the metrics token.
const METRICS_TOKEN = 'scrape-token-0123456789abcdef';

async function status(server: TestServer, headers: Record<string, string>, path = '/metrics') {
  const response = await server.request(path, { key: null, headers });
  const text = await response.text();
  return { status: response.status, text };
}

describe('/metrics access', () => {
  let server: TestServer;
  let userKey: string;
  beforeAll(async () => {
    server = await startTestServer({ metricsToken: METRICS_TOKEN });
    const created = await server.request('/api/v1/admin/keys', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'not an admin', role: 'user' }),
    });
    userKey = (await created.json()).data.key;
  });
  afterAll(async () => {
    await server?.close();
  });

  it('an admin key or the metrics token reads the metrics', async () => {
    const byKey = await status(server, { 'x-api-key': server.key });
    expect(byKey.status).toBe(200);
    expect(byKey.text).toContain('flowscale_backend_up');
    const byToken = await status(server, { authorization: `Bearer ${METRICS_TOKEN}` });
    expect(byToken.status).toBe(200);
    expect(byToken.text).toContain('flowscale_backend_up');
  });

  it('no credentials, a wrong token, a bad key or a key in the URL: 401 envelope, no metrics', async () => {
    const refused: Array<Record<string, string>> = [
      {},
      { authorization: `Bearer ${METRICS_TOKEN}x` },
      { authorization: `Bearer ${METRICS_TOKEN.slice(0, -1)}` },
      { authorization: 'Bearer ' },
      { authorization: `Basic ${METRICS_TOKEN}` },
      { authorization: METRICS_TOKEN },
      { 'x-api-key': 'wrong' },
    ];
    for (const headers of refused) {
      const { status: code, text } = await status(server, headers);
      expect(code, JSON.stringify(headers)).toBe(401);
      expect(JSON.parse(text)).toMatchObject({ status: 'error', code: 'UNAUTHORIZED' });
    }
    const inUrl = await status(server, {}, `/metrics?api_key=${server.key}&token=${METRICS_TOKEN}`);
    expect(inUrl.status).toBe(401);
  });

  it('a key without the admin role: 403', async () => {
    const { status: code, text } = await status(server, { 'x-api-key': userKey });
    expect(code).toBe(403);
    expect(JSON.parse(text)).toMatchObject({ status: 'error', code: 'FORBIDDEN' });
    expect(JSON.parse(text).errors).toMatch(/admin/);
  });
});

describe('/metrics without a metrics token configured', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('only admin keys; any bearer token is refused', async () => {
    expect((await status(server, {})).status).toBe(401);
    expect((await status(server, { authorization: 'Bearer anything' })).status).toBe(401);
    expect((await status(server, { authorization: `Bearer ${server.key}` })).status).toBe(401);
    expect((await status(server, { 'x-api-key': server.key })).status).toBe(200);
  });
});
