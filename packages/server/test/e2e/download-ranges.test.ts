import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/harness';
import { solidPng } from '../support/png';

// Media players seek, and Safari starts <video>/<audio> only, with Range requests on the signed URL.
let server: TestServer;
let url: string;
let whole: Buffer;

beforeAll(async () => {
  server = await startTestServer();
  const png = solidPng(64, 48, [10, 200, 30]);
  const result = await server.api.executeWorkflowAsync(
    'invert-image',
    { image_1: new Blob([new Uint8Array(png)], { type: 'image/png' }) },
    undefined,
    100,
    30_000,
  );
  url = result.data[0]!.download_url!;
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get('accept-ranges')).toBe('bytes');
  whole = Buffer.from(await response.arrayBuffer());
  expect(whole.length).toBeGreaterThan(16);
});
afterAll(async () => {
  await server?.close();
});

const ranged = (range: string, extra: Record<string, string> = {}) =>
  fetch(url, { headers: { range, ...extra } });

describe('downloads answer Range requests', () => {
  it('one range: 206 with Content-Range, Content-Length and exactly those bytes', async () => {
    const response = await ranged('bytes=0-7');
    expect(response.status).toBe(206);
    expect(response.headers.get('content-range')).toBe(`bytes 0-7/${whole.length}`);
    expect(response.headers.get('content-length')).toBe('8');
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await response.arrayBuffer())).toEqual(whole.subarray(0, 8));
  });

  it('an open end and a suffix range, as players ask for them', async () => {
    const tail = await ranged('bytes=10-');
    expect(tail.status).toBe(206);
    expect(tail.headers.get('content-range')).toBe(`bytes 10-${whole.length - 1}/${whole.length}`);
    expect(Buffer.from(await tail.arrayBuffer())).toEqual(whole.subarray(10));
    const suffix = await ranged('bytes=-4');
    expect(suffix.status).toBe(206);
    expect(Buffer.from(await suffix.arrayBuffer())).toEqual(whole.subarray(whole.length - 4));
  });

  it('a range past the end is 416 naming the size; the file is not sent', async () => {
    const response = await ranged(`bytes=${whole.length}-`);
    expect(response.status).toBe(416);
    expect(response.headers.get('content-range')).toBe(`bytes */${whole.length}`);
    const body = (await response.json()) as { code: string; errors: string };
    expect(body.code).toBe('RANGE_NOT_SATISFIABLE');
    expect(body.errors).toContain(`${whole.length} bytes`);
  });

  it('several ranges, a malformed header or If-Range get the whole file (200)', async () => {
    for (const [range, extra] of [
      ['bytes=0-1,5-6', {}],
      ['bytes=abc', {}],
      ['bytes=0-3', { 'if-range': '"some-etag"' }],
    ] as const) {
      const response = await ranged(range, extra);
      expect(response.status, range).toBe(200);
      expect(Buffer.from(await response.arrayBuffer())).toEqual(whole);
    }
  });

  it('a bad signature is still refused before any range is read', async () => {
    // Change the signature's first character to another one: a fixed 'X' left it as it was one time in 64.
    const tampered = url.replace(/signature=(.)/, (_, first) => `signature=${first === 'A' ? 'B' : 'A'}`);
    expect(tampered).not.toBe(url);
    const response = await fetch(tampered, { headers: { range: 'bytes=0-1' } });
    expect(response.status).toBe(403);
  });
});
