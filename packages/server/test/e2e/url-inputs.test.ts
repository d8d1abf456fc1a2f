import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { formOf, startTestServer, type TestServer, waitFor } from '../support/harness';
import { type Origin, startOrigin } from '../support/origin';
import { solidPng } from '../support/png';

// Real engine on a shared 2-core box: generous limits, only to stop hangs.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const png = solidPng(3, 2, [200, 10, 10]);
const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const MAX = 4096;

let origin: Origin;
let strict: TestServer; // default policy: no private addresses
let permissive: TestServer; // FLOWSCALE_ALLOW_PRIVATE_URLS=true, to fetch from the loopback origin

beforeAll(async () => {
  origin = await startOrigin((request, response) => {
    switch (request.url) {
      case '/input.png':
        response.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length }).end(png);
        return;
      case '/moved':
        response.writeHead(302, { location: '/input.png' }).end();
        return;
      case '/loop':
        response.writeHead(302, { location: '/loop' }).end();
        return;
      case '/declared-huge':
        response.writeHead(200, { 'content-type': 'image/png', 'content-length': 10 * MAX }).end();
        return;
      case '/chunked-huge':
        // No Content-Length: only the byte count while streaming can stop it.
        response.writeHead(200, { 'content-type': 'image/png' });
        for (let index = 0; index < 10; index++) response.write(Buffer.alloc(MAX, 1));
        response.end();
        return;
      case '/hang':
        return; // never answers
      default:
        response.writeHead(404).end('no');
    }
  });
  strict = await startTestServer({ maxFileBytes: MAX });
  permissive = await startTestServer({ maxFileBytes: MAX, allowPrivateUrls: true, urlFetchTimeoutMs: 500 });
});
afterAll(async () => {
  await strict?.close();
  await permissive?.close();
  await origin?.close();
});

const submit = (server: TestServer, fields: Record<string, string>) =>
  server.request('/api/v1/runs?workflow_id=invert-image', { method: 'POST', body: formOf(fields) });
const runCount = async (server: TestServer): Promise<number> =>
  (await (await server.request('/api/v1/runs?page_size=1')).json()).data.count;
const storedInputs = (server: TestServer): Promise<string[]> => server.storedInputs();

async function refused(server: TestServer, value: string, status: number, code: string, message: RegExp) {
  const response = await submit(server, { image_1: value });
  const body = await response.json();
  expect({ status: response.status, code: body.code }, `${value}: ${body.errors}`).toEqual({ status, code });
  expect(body.errors).toMatch(/image_1/);
  expect(body.errors).toMatch(message);
  return body;
}

describe('URL inputs refused by the SSRF guard (default policy)', () => {
  it('refuses loopback, private, link-local, mapped and odd spellings, other schemes and credentials; nothing is contacted, stored or created', async () => {
    const hitsBefore = origin.hits.length;
    const port = origin.port;
    const cases: Array<[string, RegExp]> = [
      [`http://127.0.0.1:${port}/input.png`, /127\.0\.0\.1 is a loopback address/],
      [`http://localhost:${port}/input.png`, /loopback address \(localhost resolves to/],
      [`http://[::1]:${port}/input.png`, /::1 is a loopback address/],
      [`http://[::ffff:127.0.0.1]:${port}/input.png`, /loopback address/],
      [`http://0x7f.1:${port}/input.png`, /127\.0\.0\.1 is a loopback address/],
      [`http://2130706433:${port}/input.png`, /127\.0\.0\.1 is a loopback address/],
      ['http://10.0.0.1/input.png', /10\.0\.0\.1 is a private address/],
      ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254 is a link-local address/],
      ['http://100.64.0.1/x.png', /CGNAT/],
      ['http://[fe80::1]/x.png', /link-local/],
      ['http://0.0.0.0/x.png', /unspecified/],
      ['file:///etc/passwd', /only http and https URLs are accepted, not file:/],
      ['ftp://files.invalid/x.png', /only http and https/],
      ['https://user:secret@images.invalid/x.png', /credentials/],
    ];
    for (const [value, message] of cases) await refused(strict, value, 422, 'INVALID_INPUTS', message);
    expect(origin.hits.length).toBe(hitsBefore);
    expect(await storedInputs(strict)).toEqual([]);
    expect(await runCount(strict)).toBe(0);
  });

  it('without the flag a redirecting loopback URL is refused at its first hop (later hops: see the unit tests)', async () => {
    await refused(
      strict,
      `${origin.url}/moved`,
      422,
      'INVALID_INPUTS',
      /URL refused: 127\.0\.0\.1 is a loopback/,
    );
  });
});

describe('data: URL inputs', () => {
  it('a base64 data: URL becomes the stored input and the run completes', async () => {
    const response = await submit(strict, { image_1: `data:image/png;base64,${png.toString('base64')}` });
    expect(response.status).toBe(201);
    const runId = (await response.json()).data.run_id as string;
    const run = await waitFor(
      async () => (await (await strict.request(`/api/v1/runs/${runId}`)).json()).data,
      (data) => ['completed', 'failed'].includes(data.status),
    );
    expect(run.status).toBe('completed');
    expect(await storedInputs(strict)).toContain(sha(png));
  });

  it('the SDK passes a data: URL string as the image input, as in the FlowScale docs', async () => {
    const result = await strict.api.executeWorkflowAsync(
      'invert-image',
      { image_1: `data:image/png;base64,${solidPng(2, 2, [0, 0, 255]).toString('base64')}` },
      undefined,
      100,
    );
    expect(result.data[0]?.download_url).toMatch(/^http/);
  });

  it('malformed or oversized data: URLs are refused naming the input', async () => {
    await refused(strict, 'data:image/png;base64,@@not-base64@@', 422, 'INVALID_INPUTS', /not valid base64/);
    const big = Buffer.alloc(MAX + 1, 7).toString('base64');
    await refused(
      strict,
      `data:image/png;base64,${big}`,
      413,
      'PAYLOAD_TOO_LARGE',
      /larger than the limit of 4096/,
    );
  });
});

describe('http(s) URL inputs with FLOWSCALE_ALLOW_PRIVATE_URLS=true (loopback origin)', () => {
  it('fetches the file (following a redirect) into the store and runs the workflow', async () => {
    const response = await submit(permissive, { image_1: `${origin.url}/moved` });
    expect(response.status).toBe(201);
    const runId = (await response.json()).data.run_id as string;
    const run = await waitFor(
      async () => (await (await permissive.request(`/api/v1/runs/${runId}`)).json()).data,
      (data) => ['completed', 'failed'].includes(data.status),
    );
    expect(run.status).toBe('completed');
    expect(await storedInputs(permissive)).toEqual([sha(png)]);
    expect(origin.hits.slice(-2).map((hit) => hit.split(' ')[1])).toEqual(['/moved', '/input.png']);
  });

  it('failures name the input and the reason; nothing is stored and no run is created', async () => {
    const runsBefore = await runCount(permissive);
    const storedBefore = await storedInputs(permissive);
    await refused(permissive, `${origin.url}/missing.png`, 422, 'INVALID_INPUTS', /answered HTTP 404/);
    await refused(permissive, `${origin.url}/loop`, 422, 'INVALID_INPUTS', /more than 3 redirects/);
    await refused(permissive, `${origin.url}/declared-huge`, 413, 'PAYLOAD_TOO_LARGE', /limit of 4096/);
    await refused(permissive, `${origin.url}/chunked-huge`, 413, 'PAYLOAD_TOO_LARGE', /limit of 4096/);
    await refused(
      permissive,
      `${origin.url}/hang`,
      422,
      'INVALID_INPUTS',
      /no answer from 127\.0\.0\.1:\d+ within 500 ms/,
    );
    expect(await runCount(permissive)).toBe(runsBefore);
    expect(await storedInputs(permissive)).toEqual(storedBefore);
    expect(fs.readdirSync(permissive.uploadTempDir)).toEqual([]);
  });

  it('nothing is fetched when another input of the request is invalid', async () => {
    const hitsBefore = origin.hits.length;
    const response = await submit(permissive, { image_1: `${origin.url}/input.png`, nonsense: 'x' });
    expect(response.status).toBe(422);
    expect((await response.json()).details).toEqual([
      { field: 'nonsense', message: expect.stringContaining('unknown input') },
    ]);
    expect(origin.hits.length).toBe(hitsBefore);
  });
});
