import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UploadProgress } from '../src/index';
import { largePng } from './support/png';
import { type RealServer, startRealServer } from './support/real-server';

// Upload progress in a real browser: the SDK sends that one request with XMLHttpRequest. The page and the
// API share an origin: this test's page server forwards /api/ to the real server byte for byte.
const CHROMIUM = '/usr/bin/chromium';
const root = join(import.meta.dirname, '..', '..', '..');
const hasChromium = existsSync(CHROMIUM);
const PAGE = `<!doctype html><title>sdk</title><script type="module">
import * as sdk from '/sdk.js'; window.sdk = sdk;
</script>`;

let api: RealServer;
let pages: Server;
let pagesUrl: string;
let browser: Browser;
const png = largePng(1400, 1000); // ~4 MiB

beforeAll(async () => {
  if (!hasChromium) return;
  api = await startRealServer();
  const out = join(mkdtempSync(join(tmpdir(), 'dxclient-browser-')), 'sdk.js');
  execFileSync(join(root, 'node_modules/.bin/esbuild'), [
    join(root, 'packages/sdk/src/index.ts'),
    '--bundle',
    '--format=esm',
    '--platform=browser',
    `--outfile=${out}`,
  ]);
  const bundle = readFileSync(out);
  const target = new URL(api.url);
  pages = createServer((req, res) => {
    if (req.url?.startsWith('/api/')) {
      const upstream = request(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
        (reply) => {
          res.writeHead(reply.statusCode ?? 502, reply.headers);
          reply.pipe(res);
        },
      );
      req.pipe(upstream);
      return;
    }
    if (req.url === '/big.png') res.writeHead(200, { 'Content-Type': 'image/png' }).end(png);
    else if (req.url === '/sdk.js') res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(bundle);
    else res.writeHead(200, { 'Content-Type': 'text/html' }).end(PAGE);
  });
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  pagesUrl = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => pages?.close(resolve));
  await api?.close();
});

describe('onUploadProgress in headless Chromium', () => {
  it.skipIf(!hasChromium)(
    'reports a multi-MB upload through XMLHttpRequest, ending at total, and the run is created',
    async () => {
      const page = await browser.newPage();
      await page.goto(pagesUrl);
      await page.waitForFunction(() => 'sdk' in window);
      const result = await page.evaluate(
        async ({ baseUrl, apiKey }) => {
          const { FlowscaleAPI } = (window as unknown as { sdk: typeof import('../src/index') }).sdk;
          const client = new FlowscaleAPI({ apiKey, baseUrl, allowDangerouslyExposeApiKey: true });
          const calls: UploadProgress[] = [];
          const image = await (await fetch('/big.png')).blob();
          const { data } = await client.executeWorkflow('invert-image', { image_1: image }, undefined, {
            onUploadProgress: (p) => calls.push(p),
          });
          const run = await client.getRun(data.run_id);
          return { calls, runId: data.run_id, workflow: run.data.workflow_id };
        },
        { baseUrl: pagesUrl, apiKey: api.key },
      );
      expect(result.runId).toBeTruthy();
      expect(result.calls.length).toBeGreaterThan(0);
      for (let i = 1; i < result.calls.length; i++)
        expect(result.calls[i]!.loaded).toBeGreaterThan(result.calls[i - 1]!.loaded);
      const last = result.calls.at(-1)!;
      expect(last.total).toBe(last.loaded);
      expect(last.loaded).toBeGreaterThan(png.byteLength);
    },
    120_000,
  );
});
