import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlowscaleAPI, type UploadProgress } from '../src/index';
import { largePng } from './support/png';
import { type RealServer, startRealServer } from './support/real-server';

// Upload progress in Node, over loopback to the real server with its embedded engine.
let server: RealServer;
let api: FlowscaleAPI;
let dir: string;
const png = largePng(1400, 1000); // ~4 MiB
beforeAll(async () => {
  server = await startRealServer();
  api = new FlowscaleAPI({ apiKey: server.key, baseUrl: server.url, enableLogging: false, retries: 0 });
  dir = mkdtempSync(join(tmpdir(), 'dxclient-upload-'));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Loaded never goes back, total never changes once known, and the last call is the whole body. */
function expectWellFormed(calls: UploadProgress[], atLeast: number) {
  expect(calls.length).toBeGreaterThan(2);
  for (let i = 1; i < calls.length; i++)
    expect(calls[i]!.loaded).toBeGreaterThanOrEqual(calls[i - 1]!.loaded);
  const last = calls.at(-1)!;
  expect(last.total).toBe(last.loaded);
  expect(last.loaded).toBeGreaterThan(atLeast);
}

describe('onUploadProgress in Node', () => {
  it('executeWorkflowAsync reports a Blob input’s upload, ending at total, and the run completes', async () => {
    const calls: UploadProgress[] = [];
    const result = await api.executeWorkflowAsync(
      'invert-image',
      { image_1: new Blob([new Uint8Array(png)], { type: 'image/png' }) },
      undefined,
      100,
      120_000,
      { onUploadProgress: (p) => calls.push(p) },
    );
    expect(result.data[0]?.generation_status).toBe('success');
    expectWellFormed(calls, png.byteLength);
    // With a Blob body the size is known from the first call on.
    expect(new Set(calls.map((c) => c.total))).toEqual(new Set([calls.at(-1)!.loaded]));
  });

  it('executeWorkflow reports a stream input’s upload; total is unknown until the end', async () => {
    const path = join(dir, 'in.png');
    writeFileSync(path, png);
    const calls: UploadProgress[] = [];
    const { data } = await api.executeWorkflow(
      'invert-image',
      { image_1: createReadStream(path) },
      undefined,
      {
        onUploadProgress: (p) => calls.push(p),
      },
    );
    expect(data.run_id).toBeTruthy();
    expectWellFormed(calls, png.byteLength);
    expect(calls[0]!.total).toBeUndefined();
  });

  it('calls without a callback are unchanged', async () => {
    const { data } = await api.executeWorkflow('text-echo', { default_value_1: 'no progress' });
    expect(data.run_id).toBeTruthy();
  });
});
