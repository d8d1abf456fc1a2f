import { FlowscaleAPI } from 'flowscale';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFlowScaleProxy, type FlowScaleProxyOptions, jwtAuthenticator } from '../src/index';
import { ADAPTERS, type AdapterName, type Served, serveWith } from './support/adapters';
import { API_KEY, JWT_SECRET, makePng, rgbPixels, signJwt, startUpstream } from './support/fixture';

let upstream: Awaited<ReturnType<typeof startUpstream>>;
let png: Uint8Array;
let aliceJwt: string;

beforeAll(async () => {
  upstream = await startUpstream();
  png = await makePng();
  aliceJwt = await signJwt('alice');
});
afterAll(() => upstream?.close());

function proxyOptions(overrides: Partial<FlowScaleProxyOptions> = {}): FlowScaleProxyOptions {
  return {
    upstream: upstream.recorder.url,
    apiKey: API_KEY,
    authenticate: jwtAuthenticator({ secret: JWT_SECRET }),
    allow: { workflows: ['invert-image', 'slow-delay', 'text-echo-missing'] },
    ...overrides,
  };
}

function sdk(baseUrl: string, jwt: string) {
  return new FlowscaleAPI({
    baseUrl,
    proxyMode: true,
    customHeaders: { Authorization: `Bearer ${jwt}` },
    enableLogging: false,
    retries: 0,
  });
}

const bearer = (jwt: string) => ({ authorization: `Bearer ${jwt}` });

describe.each(ADAPTERS)('proxy through %s', (adapter: AdapterName) => {
  let proxy: Served;
  const extra: Served[] = [];

  beforeAll(async () => {
    proxy = await serveWith(adapter, createFlowScaleProxy(proxyOptions()));
  });
  afterAll(async () => {
    await proxy?.close();
    await Promise.all(extra.map((s) => s.close()));
  });

  async function serveExtra(overrides: Partial<FlowScaleProxyOptions>) {
    const served = await serveWith(adapter, createFlowScaleProxy(proxyOptions(overrides)));
    extra.push(served);
    return served;
  }

  it('passes an uploaded image through intact and serves the output through the proxy', async () => {
    const client = sdk(proxy.url, aliceJwt);
    const result = await client.executeWorkflowAsync('invert-image', {
      image_1: new Blob([png as BlobPart], { type: 'image/png' }),
    });
    expect(result.status).toBe('success');
    const downloadUrl = result.data[0]!.download_url!;
    // The signed link points at the proxy, so the upstream can stay private; it needs no token.
    expect(downloadUrl.startsWith(`${proxy.url}/api/v1/files/`)).toBe(true);
    upstream.recorder.clear();
    const outputPng = new Uint8Array(await (await fetch(downloadUrl)).arrayBuffer());
    expect(upstream.recorder.seen.map((s) => s.path.split('?')[0])).toEqual([new URL(downloadUrl).pathname]);

    // Every pixel inverted proves the upload arrived byte for byte.
    const [input, inverted] = await Promise.all([rgbPixels(png), rgbPixels(outputPng)]);
    expect(inverted.length).toBe(input.length);
    expect(inverted.every((v, i) => v === 255 - input[i]!)).toBe(true);

    // A tampered or unsigned link is refused (the first by the upstream, the second before it).
    const tampered = await fetch(downloadUrl.replace(/signature=[^&]+/, 'signature=AAAA'));
    expect(tampered.status).toBeGreaterThanOrEqual(400);
    upstream.recorder.clear();
    const unsigned = await fetch(downloadUrl.split('?')[0]!);
    expect(unsigned.status).toBe(401);
    expect(upstream.recorder.seen).toEqual([]);
  });

  it('streams run events while the run is still going', async () => {
    const client = sdk(proxy.url, aliceJwt);
    // Three seconds of work leaves room for a loaded machine to open the stream well before the end.
    const { data } = await client.executeWorkflow('slow-delay', { default_value_1: 'hi', value_4: 3 });
    const arrivals: Array<{ type: string; at: number }> = [];
    const raw = await fetch(`${proxy.url}/api/v1/runs/${data.run_id}/events?from_seq=1`, {
      headers: bearer(aliceJwt),
    });
    expect(raw.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(raw.headers.get('x-accel-buffering')).toBe('no');
    await raw.body?.cancel();
    const stream = client.subscribeRunEvents(data.run_id, {
      fromSeq: 1,
      onEvent: (event) => arrivals.push({ type: event.data.type, at: Date.now() }),
    });
    await stream.done;
    const first = arrivals[0]!;
    const last = arrivals.at(-1)!;
    expect(last.type).toBe('run.completed');
    expect(arrivals.length).toBeGreaterThanOrEqual(3);
    // A buffering proxy would deliver everything at once, when the run ends.
    expect(last.at - first.at).toBeGreaterThanOrEqual(1000);
  });

  it('passes upstream error statuses and bodies through unchanged', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/runs/does-not-exist'],
      ['POST', '/api/v1/runs?workflow_id=invert-image'],
    ] as const) {
      const body = method === 'POST' ? new FormData() : undefined;
      const direct = await fetch(`${upstream.server.url}${path}`, {
        method,
        headers: { 'x-api-key': API_KEY },
        body,
      });
      const proxied = await fetch(`${proxy.url}${path}`, { method, headers: bearer(aliceJwt), body });
      expect(direct.status).toBeGreaterThanOrEqual(400);
      expect(proxied.status).toBe(direct.status);
      expect(proxied.headers.get('content-type')).toBe(direct.headers.get('content-type'));
      expect(await proxied.text()).toBe(await direct.text());
    }
  });

  it('refuses missing, forged and expired tokens without contacting the upstream', async () => {
    upstream.recorder.clear();
    const forged = await signJwt('alice', 'not-the-secret-but-also-long-enough');
    const expired = await signJwt('alice', JWT_SECRET, Math.floor(Date.now() / 1000) - 60);
    const attempts: Array<Record<string, string>> = [
      {},
      { 'x-api-key': API_KEY }, // a leaked key is no credential at the proxy
      bearer(forged),
      bearer(expired),
      { authorization: 'Basic YWxpY2U6cGFzcw==' },
    ];
    for (const headers of attempts) {
      const res = await fetch(`${proxy.url}/api/v1/comfy/workflows`, { headers });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ status: 'error', code: 'unauthorized' });
    }
    const upload = new FormData();
    upload.set('image_1', new Blob([png as BlobPart], { type: 'image/png' }), 'in.png');
    const res = await fetch(`${proxy.url}/api/v1/runs?workflow_id=invert-image`, {
      method: 'POST',
      body: upload,
    });
    expect(res.status).toBe(401);
    expect(upstream.recorder.seen).toEqual([]);
  });

  it('holds the workflow allow-list for runs, details and the list', async () => {
    const list = (await (
      await fetch(`${proxy.url}/api/v1/comfy/workflows`, { headers: bearer(aliceJwt) })
    ).json()) as { data: Array<{ id: string; name: string }> };
    expect(list.data.map((w) => w.name).sort()).toEqual(['invert-image', 'slow-delay']);

    upstream.recorder.clear();
    for (const workflow of ['text-echo', 'solid-color', 'no-such-workflow']) {
      const res = await fetch(`${proxy.url}/api/v1/runs?workflow_id=${workflow}`, {
        method: 'POST',
        headers: bearer(aliceJwt),
        body: new FormData(),
      });
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ code: 'workflow_not_allowed' });
    }
    const detail = await fetch(`${proxy.url}/api/v1/comfy/workflows/text-echo`, {
      headers: bearer(aliceJwt),
    });
    expect(detail.status).toBe(403);
    const admin = await fetch(`${proxy.url}/api/v1/admin/keys`, { headers: bearer(aliceJwt) });
    expect(admin.status).toBe(404);
    // At most the catalogue lookup reached the upstream; no run was created.
    expect(upstream.recorder.seen.filter((s) => s.path !== '/api/v1/comfy/workflows')).toEqual([]);

    // The allow-list names workflows, the caller may use their ids.
    const byId = list.data.find((w) => w.name === 'invert-image')!.id;
    const upload = new FormData();
    upload.set('image_1', new Blob([png as BlobPart], { type: 'image/png' }), 'in.png');
    const res = await fetch(`${proxy.url}/api/v1/runs?workflow_id=${encodeURIComponent(byId)}`, {
      method: 'POST',
      headers: bearer(aliceJwt),
      body: upload,
    });
    expect(res.ok).toBe(true);
  });

  it('limits operations to the allow-list', async () => {
    const limited = await serveExtra({ allow: { operations: ['workflows', 'run', 'events'] } });
    upstream.recorder.clear();
    const res = await fetch(`${limited.url}/api/v1/runs`, { headers: bearer(aliceJwt) });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: 'operation_not_allowed' });
    expect(upstream.recorder.seen).toEqual([]);
  });

  it('answers 429 with Retry-After once a caller is over its budget', async () => {
    const limited = await serveExtra({ rateLimit: { limit: 2, windowMs: 60_000 } });
    upstream.recorder.clear();
    const get = (jwt: string) => fetch(`${limited.url}/api/v1/comfy/health`, { headers: bearer(jwt) });
    expect((await get(aliceJwt)).status).toBe(200);
    expect((await get(aliceJwt)).status).toBe(200);
    const refused = await get(aliceJwt);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await refused.json()).toMatchObject({ status: 'error', code: 'rate_limited' });
    expect(upstream.recorder.seen).toHaveLength(2);
    // Budgets are per caller.
    expect((await get(await signJwt('bob'))).status).toBe(200);
  });

  it('refuses an oversized upload with 413 before the upstream sees it', async () => {
    const capped = await serveExtra({ maxBodyBytes: 64 * 1024 });
    upstream.recorder.clear();
    const upload = new FormData();
    upload.set('image_1', new Blob([new Uint8Array(512 * 1024)], { type: 'image/png' }), 'big.png');
    const res = await fetch(`${capped.url}/api/v1/runs?workflow_id=invert-image`, {
      method: 'POST',
      headers: bearer(aliceJwt),
      body: upload,
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ status: 'error', code: 'payload_too_large' });
    expect(upstream.recorder.seen).toEqual([]);
  });

  it('refuses an oversized chunked upload (no Content-Length) with 413', async () => {
    const capped = await serveExtra({ maxBodyBytes: 64 * 1024 });
    const chunk = new Uint8Array(16 * 1024);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 32) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await fetch(`${capped.url}/api/v1/runs?workflow_id=invert-image`, {
      method: 'POST',
      headers: { ...bearer(aliceJwt), 'content-type': 'multipart/form-data; boundary=x' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
  });

  it("replaces the caller's credentials and cookies with the secret key upstream", async () => {
    upstream.recorder.clear();
    const res = await fetch(`${proxy.url}/api/v1/comfy/health`, {
      headers: {
        ...bearer(aliceJwt),
        'x-api-key': 'client-key',
        cookie: 'sid=1',
        origin: 'https://evil.example',
      },
    });
    expect(res.status).toBe(200);
    const [seen] = upstream.recorder.seen;
    expect(seen?.headers['x-api-key']).toBe(API_KEY);
    expect(seen?.headers.authorization).toBeUndefined();
    expect(seen?.headers.cookie).toBeUndefined();
    expect(seen?.headers.origin).toBeUndefined();
    expect(JSON.stringify([...res.headers])).not.toContain(API_KEY);
  });
});
