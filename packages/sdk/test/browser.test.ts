import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ContractServer, startContractServer } from './support/contract-server';

const CHROMIUM = '/usr/bin/chromium';
const root = join(import.meta.dirname, '..', '..', '..');
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`SKIPPED browser test: ${CHROMIUM} is not installed`);

// The page loads the browser bundle as a module and exposes it for the test.
const PAGE = `<!doctype html><title>sdk</title><script type="module">
import * as sdk from '/sdk.js'; window.sdk = sdk;
</script>`;

let api: ContractServer;
let pages: Server;
let pagesUrl: string;
let browser: Browser;

beforeAll(async () => {
  if (!hasChromium) return;
  api = await startContractServer();
  const out = join(mkdtempSync(join(tmpdir(), 'flowscale-browser-')), 'sdk.js');
  // The core entry, bundled for the browser: any node: built-in would fail this build.
  execFileSync(
    join(root, 'node_modules/.bin/esbuild'),
    [
      join(root, 'packages/sdk/src/index.ts'),
      '--bundle',
      '--format=esm',
      '--platform=browser',
      `--outfile=${out}`,
    ],
    { stdio: 'pipe' },
  );
  const bundle = readFileSync(out);
  pages = createServer((req, res) => {
    if (req.url === '/sdk.js') res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(bundle);
    else res.writeHead(200, { 'Content-Type': 'text/html' }).end(PAGE);
  });
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  pagesUrl = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => pages?.close(resolve));
  await api?.close();
});

describe('in headless Chromium', () => {
  it.skipIf(!hasChromium)(
    'guards the key, then runs a workflow with a Blob upload, SSE, WebSocket and proxy mode',
    async () => {
      const page = await browser.newPage();
      await page.goto(pagesUrl);
      await page.waitForFunction(() => 'sdk' in window);
      const result = await page.evaluate(
        async ({ baseUrl, apiKey }) => {
          const { FlowscaleAPI, FlowScaleError } = (
            window as unknown as { sdk: typeof import('../src/index') }
          ).sdk;
          let guard = '';
          try {
            new FlowscaleAPI({ apiKey, baseUrl });
          } catch (error) {
            guard = `${error instanceof FlowScaleError}:${(error as Error).message}`;
          }
          const client = new FlowscaleAPI({
            apiKey,
            baseUrl,
            allowDangerouslyExposeApiKey: true,
            enableLogging: false,
          });
          const health = await client.checkHealth();
          const upload = await client.executeWorkflow('invert-image', {
            image_1: new Blob(['browser-bytes'], { type: 'image/png' }),
          });
          const done = await client.executeWorkflowAsync('text-echo', { default_value_1: 'browser' });
          const ws: string[] = [];
          await new Promise<void>((resolve) => {
            client.connectWebSocket({
              onOpen: () => {
                ws.push('open');
                resolve();
              },
            });
          });
          const connected = client.isWebSocketConnected();
          client.disconnectWebSocket();
          const proxy = new FlowscaleAPI({
            baseUrl,
            proxyMode: true,
            customHeaders: { Authorization: 'Bearer jwt' },
          });
          const proxied = await proxy.getQueue().catch((error: { status: number }) => error.status);
          return { guard, health: health.status, runId: upload.data.run_id, done, ws, connected, proxied };
        },
        { baseUrl: api.url, apiKey: api.apiKey },
      );
      expect(result.guard).toMatch(/^true:.*proxyMode: true.*allowDangerouslyExposeApiKey: true/);
      expect(result.health).toBe('success');
      expect(api.uploads.get(result.runId)).toMatchObject([
        { name: 'image_1', filename: 'image_1', type: 'image/png', text: 'browser-bytes' },
      ]);
      expect(result.done.data[0]).toMatchObject({
        file_content: 'browser from FlowScale',
        generation_status: 'success',
      });
      expect(api.requests.some((r) => r.path.endsWith('/events'))).toBe(true);
      expect(result.connected).toBe(true);
      expect(api.wsConnections.at(-1)?.protocol).toBe('flowscale');
      // Proxy mode sent no key, so this key-checking server refused it.
      expect(result.proxied).toBe(401);
      const proxied = api.requestsTo('/api/v1/comfy/queue').at(-1)!;
      expect(proxied.headers['x-api-key']).toBeUndefined();
      expect(proxied.headers.authorization).toBe('Bearer jwt');
    },
    60_000,
  );
});
