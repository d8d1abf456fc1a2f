import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, startTestServer, type TestServer, waitFor } from '../support/harness';
import { solidPng } from '../support/png';
import { type Relay, startRelay } from '../support/relay';

// The same input file goes to a backend once: counted in the bytes the server sent to the real engine
// through a relay. A file the backend no longer has is uploaded again, and so is every file after the
// backend's connection drops (it may have restarted).
let engine: Awaited<ReturnType<typeof startTestEngine>>;
let relay: Relay;
let server: TestServer;

beforeAll(async () => {
  engine = await startTestEngine();
  relay = await startRelay(engine.port);
  server = await startTestServer({ comfyuiUrls: [relay.url] });
});
afterAll(async () => {
  await server?.close();
  await relay?.close();
  await engine?.close();
});

const uploads = (): number =>
  relay.sent().reduce((count, text) => count + (text.match(/POST \/upload\/image HTTP/g)?.length ?? 0), 0);
const png = (): Blob => new Blob([new Uint8Array(solidPng(3, 3, [9, 99, 199]))], { type: 'image/png' });
const invert = () => server.api.executeWorkflowAsync('invert-image', { image_1: png() }, undefined, 100);

describe('input files reach each backend once', () => {
  it('ten runs of the same file: one upload; a file the backend lost, and a reconnect, upload again', async () => {
    await Promise.all([invert(), invert(), invert(), invert(), invert()]);
    for (let i = 0; i < 5; i++) await invert();
    expect(uploads()).toBe(1);

    const inputDir = path.join(engine.dataDir, 'input');
    for (const name of fs.readdirSync(inputDir).filter((file) => file.startsWith('fs_')))
      fs.rmSync(path.join(inputDir, name));
    const result = await invert();
    expect(result.data[0]?.filename).toMatch(/\.png$/);
    expect(uploads()).toBe(2);

    // A dropped connection may be a restart: what the backend had is no longer relied on.
    relay.cutAll();
    await waitFor(
      async () => (await server.api.checkHealth()).data[0]?.status,
      (status) => status === 'idle',
    );
    await invert();
    expect(uploads()).toBe(3);
  });
});
