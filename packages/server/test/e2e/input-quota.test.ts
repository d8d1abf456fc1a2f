import fs from 'node:fs';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/harness';
import { solidPng } from '../support/png';

// A project's max_input_bytes holds for the bytes a body actually streams, not only for the
// Content-Length it declares: a chunked body declares none. On a real server and engine, over a socket,
// on SQLite/local disk or (second vitest project) Postgres/S3.

const QUOTA = 64 * 1024;
let server: TestServer;
let key = '';

const json = async (path: string, method: string, body?: unknown) => {
  const response = await server.request(path, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return { status: response.status, body: await response.json() };
};

interface Answer {
  status: number;
  body: { code?: string; errors?: string; data?: { run_id: string } };
  chunked: boolean;
}

/** POSTs a one-file multipart body in 16 KiB chunks with Transfer-Encoding: chunked, no Content-Length. */
function chunkedUpload(file: Buffer): Promise<Answer> {
  const boundary = `quota${Math.random().toString(36).slice(2)}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="image_1"; filename="big.png"\r\n` +
      'Content-Type: image/png\r\n\r\n',
  );
  const body = Buffer.concat([head, file, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  return new Promise((resolve, reject) => {
    const request = http.request(`${server.url}/api/v1/runs?workflow_id=invert-image`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': `multipart/form-data; boundary=${boundary}` },
    });
    let answered = false;
    request.on('response', (response) => {
      answered = true;
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          body: JSON.parse(text),
          chunked: request.getHeader('content-length') === undefined,
        }),
      );
    });
    // The server may answer and close while the body is still being written: that is the point.
    request.on('error', (error) => {
      if (!answered) reject(error);
    });
    let offset = 0;
    const pump = () => {
      while (offset < body.length && !answered) {
        const chunk = body.subarray(offset, offset + 16 * 1024);
        offset += chunk.length;
        if (!request.write(chunk)) return void request.once('drain', pump);
      }
      request.end();
    };
    pump();
  });
}

beforeAll(async () => {
  server = await startTestServer();
  expect((await json('/api/v1/admin/projects', 'POST', { name: 'sized' })).status).toBe(201);
  const made = await json('/api/v1/admin/keys', 'POST', { name: 'sized app', project: 'sized' });
  key = made.body.data.key;
  const limits = await json('/api/v1/admin/projects/sized/limits', 'PUT', { max_input_bytes: QUOTA });
  expect(limits.status).toBe(200);
});
afterAll(async () => {
  await server?.close();
});

describe('max_input_bytes on the streamed bytes', { timeout: 60_000 }, () => {
  it('a chunked body larger than the quota: 413 naming it, no run, no stored blob, no temp file', async () => {
    const before = await server.storedInputs();
    // A PNG then filler: eight times the quota, and no other limit (per file, per field) stops it first.
    const big = Buffer.concat([solidPng(4, 4, [1, 2, 3]), Buffer.alloc(QUOTA * 8, 7)]);
    const refused = await chunkedUpload(big);
    expect(refused.chunked).toBe(true);
    expect(refused.status).toBe(413);
    expect(refused.body.code).toBe('PAYLOAD_TOO_LARGE');
    expect(refused.body.errors).toContain(`max_input_bytes quota (${QUOTA})`);

    const runs = await server.request('/api/v1/runs', { key });
    expect((await runs.json()).data.count).toBe(0);
    expect(await server.storedInputs()).toEqual(before);
    expect(fs.existsSync(server.uploadTempDir) ? fs.readdirSync(server.uploadTempDir) : []).toEqual([]);
    const usage = await (await server.request('/api/v1/usage', { key })).json();
    expect(usage.data.projects[0]?.totals.bytes_in ?? 0).toBe(0);
  });

  it('a chunked body within the quota is accepted, and the server still serves', async () => {
    const small = solidPng(8, 8, [200, 10, 10]);
    expect(small.length).toBeLessThan(QUOTA);
    const accepted = await chunkedUpload(small);
    expect(accepted.chunked).toBe(true);
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(201);
    expect((await server.request('/healthz', { key: null })).status).toBe(200);
  });
});
