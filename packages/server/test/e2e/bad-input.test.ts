import fs from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formOf, startTestServer, type TestServer, waitFor } from '../support/harness';
import { solidPng } from '../support/png';

// Every kind of bad input gets a clear 4xx envelope naming the problem; nothing is created; the server stays up.
let server: TestServer;
const pngBlob = (): Blob => new Blob([new Uint8Array(solidPng(2, 2, [1, 2, 3]))], { type: 'image/png' });

async function expectError(
  response: Response,
  status: number,
  code: string,
): Promise<{ errors: string; details?: Array<{ field: string; message: string }> }> {
  const body = await response.json();
  expect({ httpStatus: response.status, ...body }).toMatchObject({
    httpStatus: status,
    status: 'error',
    code,
  });
  expect(typeof body.errors).toBe('string');
  return body;
}

async function runCount(): Promise<number> {
  const response = await server.request('/api/v1/runs?page_size=1');
  return (await response.json()).data.count;
}

beforeAll(async () => {
  server = await startTestServer({ maxFileBytes: 64 * 1024 });
  // A workflow with manifest limits: 1 KiB image cap, integer range, string choices.
  const deployed = await server.request('/api/v1/admin/workflows', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'limited',
      workflow: {
        '1': { class_type: 'LoadImage', inputs: { image: '' } },
        '2': { class_type: 'PrimitiveInt', inputs: { value: 3 } },
        '3': { class_type: 'PrimitiveString', inputs: { value: 'a' } },
        '4': { class_type: 'ImageBlur', inputs: { image: ['1', 0], blur_radius: ['2', 0], sigma: 1 } },
        '5': { class_type: 'SaveImage', inputs: { images: ['4', 0], filename_prefix: 'x' } },
      },
      manifest: {
        inputs: {
          image_1: { alias: 'photo', max_file_size: 1024 },
          value_2: { alias: 'radius', min: 1, max: 31 },
          value_3: { choices: ['a', 'b'] },
        },
      },
    }),
  });
  expect(deployed.status).toBe(201);
});
afterAll(async () => {
  await server?.close();
});

describe('bad input', () => {
  it('missing or wrong API key → 401; a key in the query string is not accepted', async () => {
    await expectError(await server.request('/api/v1/comfy/workflows', { key: null }), 401, 'UNAUTHORIZED');
    await expectError(await server.request('/api/v1/comfy/workflows', { key: 'nope' }), 401, 'UNAUTHORIZED');
    await expectError(
      await server.request(`/api/v1/comfy/workflows?api_key=${server.key}`, { key: null }),
      401,
      'UNAUTHORIZED',
    );
  });

  it('unknown workflow, run and output → 404', async () => {
    const before = await runCount();
    await expectError(
      await server.request('/api/v1/runs?workflow_id=does-not-exist', {
        method: 'POST',
        body: formOf({ a: 'b' }),
      }),
      404,
      'WORKFLOW_NOT_FOUND',
    );
    await expectError(
      await server.request('/api/v1/comfy/workflows/does-not-exist'),
      404,
      'WORKFLOW_NOT_FOUND',
    );
    const unknownRun = '00000000-0000-4000-8000-000000000000';
    await expectError(await server.request(`/api/v1/runs/${unknownRun}`), 404, 'RUN_NOT_FOUND');
    await expectError(
      await server.request(`/api/v1/runs/${unknownRun}/cancel`, { method: 'POST' }),
      404,
      'RUN_NOT_FOUND',
    );
    await expectError(await server.request(`/api/v1/runs/${unknownRun}/events`), 404, 'RUN_NOT_FOUND');
    await expectError(
      await server.request('/api/v1/runs/output?filename=filename_prefix_3_AAAAAAAAAA'),
      404,
      'OUTPUT_NOT_FOUND',
    );
    expect(await runCount()).toBe(before);
  });

  it('missing, unknown and wrongly typed inputs → 422 with one detail per field', async () => {
    const before = await runCount();
    const missing = await expectError(
      await server.request('/api/v1/runs?workflow_id=invert-image', { method: 'POST', body: formOf({}) }),
      422,
      'INVALID_INPUTS',
    );
    expect(missing.details).toEqual([{ field: 'image_1', message: expect.stringContaining('missing') }]);

    const mixed = await expectError(
      await server.request('/api/v1/runs?workflow_id=solid-color', {
        method: 'POST',
        body: formOf({ default_value_1: 'abc', colour: 'red' }),
      }),
      422,
      'INVALID_INPUTS',
    );
    expect(mixed.details).toEqual(
      expect.arrayContaining([
        { field: 'default_value_1', message: expect.stringContaining('integer') },
        { field: 'colour', message: expect.stringContaining('unknown input') },
      ]),
    );

    const textForImage = await expectError(
      await server.request('/api/v1/runs?workflow_id=invert-image', {
        method: 'POST',
        body: formOf({ image_1: 'not-a-file' }),
      }),
      422,
      'INVALID_INPUTS',
    );
    expect(textForImage.details?.[0]?.message).toContain('file');

    const fileForNumber = await expectError(
      await server.request('/api/v1/runs?workflow_id=slow-delay', {
        method: 'POST',
        body: formOf({ value_4: pngBlob() }),
      }),
      422,
      'INVALID_INPUTS',
    );
    expect(fileForNumber.details?.[0]).toMatchObject({ field: 'value_4' });

    const limits = await expectError(
      await server.request('/api/v1/runs?workflow_id=limited', {
        method: 'POST',
        body: formOf({ photo: pngBlob(), radius: '99', value_3: 'z' }),
      }),
      422,
      'INVALID_INPUTS',
    );
    expect(limits.details).toEqual(
      expect.arrayContaining([
        { field: 'radius', message: 'must be at most 31' },
        { field: 'value_3', message: expect.stringContaining('one of') },
      ]),
    );
    expect(await runCount()).toBe(before);
  });

  it('files over the global or per-input limit, and oversized JSON bodies → 413', async () => {
    const before = await runCount();
    const big = new Blob([new Uint8Array(200 * 1024)], { type: 'image/png' });
    await expectError(
      await server.request('/api/v1/runs?workflow_id=invert-image', {
        method: 'POST',
        body: formOf({ image_1: big }),
      }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    const overInputLimit = new Blob([new Uint8Array(4096)], { type: 'image/png' });
    await expectError(
      await server.request('/api/v1/runs?workflow_id=limited', {
        method: 'POST',
        body: formOf({ photo: overInputLimit }),
      }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    await expectError(
      await server.request('/api/v1/admin/workflows', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'huge', workflow: { pad: 'x'.repeat(9 * 1024 * 1024) } }),
      }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    expect(await runCount()).toBe(before);
  });

  it('malformed multipart → 400; a non-multipart body → 415', async () => {
    const before = await runCount();
    const boundary = '----xyz';
    await expectError(
      await server.request('/api/v1/runs?workflow_id=text-echo', {
        method: 'POST',
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
        body: `--${boundary}\r\nContent-Disposition: form-data; name="default_value_1"\r\n\r\nhello`,
      }),
      400,
      'MALFORMED_MULTIPART',
    );
    await expectError(
      await server.request('/api/v1/runs?workflow_id=text-echo', {
        method: 'POST',
        headers: { 'content-type': 'multipart/form-data' },
        body: 'garbage',
      }),
      400,
      'MALFORMED_MULTIPART',
    );
    await expectError(
      await server.request('/api/v1/runs?workflow_id=text-echo', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ default_value_1: 'x' }),
      }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expect(await runCount()).toBe(before);
  });

  it('output filenames with path tricks → 400, and signed-file paths cannot escape', async () => {
    for (const filename of [
      '../flowscale.db',
      'a/b.png',
      '..',
      '/etc/passwd',
      'x\\y',
      '%2e%2e%2fflowscale.db',
    ]) {
      await expectError(
        await server.request(`/api/v1/runs/output?filename=${encodeURIComponent(filename)}`),
        400,
        'INVALID_FILENAME',
      );
    }
    const escaped = await server.request('/api/v1/files/..%2Fflowscale.db?expires=9999999999&signature=x', {
      key: null,
    });
    expect(escaped.status).toBeGreaterThanOrEqual(400);
    expect(escaped.status).toBeLessThan(500);
  });

  it('an Idempotency-Key reused with other inputs → 409; with the same inputs → the same run', async () => {
    const headers = { 'idempotency-key': `key-${Date.now()}` };
    const first = await server.request('/api/v1/runs?workflow_id=text-echo', {
      method: 'POST',
      headers,
      body: formOf({ default_value_1: 'one' }),
    });
    expect(first.status).toBe(201);
    const runId = (await first.json()).data.run_id;
    const again = await server.request('/api/v1/runs?workflow_id=text-echo', {
      method: 'POST',
      headers,
      body: formOf({ default_value_1: 'one' }),
    });
    expect(again.status).toBe(200);
    expect((await again.json()).data.run_id).toBe(runId);
    await expectError(
      await server.request('/api/v1/runs?workflow_id=text-echo', {
        method: 'POST',
        headers,
        body: formOf({ default_value_1: 'two' }),
      }),
      409,
      'IDEMPOTENCY_KEY_REUSED',
    );
  });

  it('bad paging, bad SSE replay position and bad admin bodies → 400', async () => {
    await expectError(await server.request('/api/v1/runs?page_size=500'), 400, 'VALIDATION_ERROR');
    await expectError(await server.request('/api/v1/runs?sort_by=name'), 400, 'VALIDATION_ERROR');
    await expectError(await server.request('/api/v1/runs?page=0'), 400, 'VALIDATION_ERROR');
    const run = await server.request('/api/v1/runs?workflow_id=text-echo', {
      method: 'POST',
      body: formOf({}),
    });
    const runId = (await run.json()).data.run_id;
    await expectError(
      await server.request(`/api/v1/runs/${runId}/events?from_seq=abc`),
      400,
      'VALIDATION_ERROR',
    );
    await expectError(
      await server.request(`/api/v1/runs/${runId}/events`, { headers: { 'last-event-id': '-1' } }),
      400,
      'BAD_REQUEST',
    );
    await expectError(
      await server.request('/api/v1/admin/workflows', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"name": ',
      }),
      400,
      'BAD_REQUEST',
    );
    await expectError(
      await server.request('/api/v1/admin/workflows', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: '../evil', workflow: { '1': { inputs: {} } } }),
      }),
      422,
      'INVALID_WORKFLOW',
    );
    await expectError(
      await server.request('/api/v1/admin/keys', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'x', role: 'root' }),
      }),
      400,
      'VALIDATION_ERROR',
    );
    await expectError(
      await server.request('/api/v1/admin/keys/00000000-0000-4000-8000-000000000000', { method: 'DELETE' }),
      404,
      'KEY_NOT_FOUND',
    );
  });

  it('a client that disconnects mid-upload leaves no run and no temp file behind', async () => {
    const before = await runCount();
    const url = new URL(server.url);
    const boundary = '----cut';
    const socket = net.connect(Number(url.port), url.hostname);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      `POST /api/v1/runs?workflow_id=invert-image HTTP/1.1\r\nHost: ${url.host}\r\nX-API-KEY: ${server.key}\r\n` +
        `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 10000000\r\n\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="image_1"; filename="a.png"\r\n` +
        'Content-Type: image/png\r\n\r\n',
    );
    socket.write(Buffer.alloc(64 * 1024, 1));
    await new Promise((resolve) => setTimeout(resolve, 200));
    socket.destroy();
    const tmpDir = server.uploadTempDir;
    const leftovers = await waitFor(
      async () => fs.readdirSync(tmpDir),
      (files) => files.length === 0,
    );
    expect(leftovers).toEqual([]);
    expect(await runCount()).toBe(before);
  });

  it('the server is still up and serving after all of that', async () => {
    const health = await server.request('/healthz', { key: null });
    expect(health.status).toBe(200);
    const result = await server.api.executeWorkflowAsync(
      'text-echo',
      { default_value_1: 'still' },
      undefined,
      100,
    );
    expect(result.data[0]?.file_content).toBe('still from FlowScale');
    // Not one of the bad requests above was answered with a 5xx.
    const metrics = await (await server.request('/metrics')).text();
    expect(metrics).toContain('status_code="4');
    expect(metrics).not.toMatch(/status_code="5\d\d"/);
  });
});
