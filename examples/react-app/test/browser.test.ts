import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBackend } from '@flowscale/example-backend-proxy';
import { startServer } from '@flowscale/server';
import { type Browser, chromium, type Page } from 'playwright-core';
import sharp from 'sharp';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const screenshotTarget = fileURLToPath(
  new URL('../../../docs/screenshot-react-example.png', import.meta.url),
);
// A distinctive key, so finding it anywhere in the browser's traffic is meaningful.
const apiKey = `fs-e2e-${randomBytes(12).toString('hex')}`;

let tmp: string;
let server: Awaited<ReturnType<typeof startServer>>;
let backend: http.Server;
let backendUrl: string;
let browser: Browser;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'fs-example-e2e-'));
  const outDir = join(tmp, 'dist');
  await build({ root, configFile: join(root, 'vite.config.ts'), logLevel: 'error', build: { outDir } });
  server = await startServer({
    port: 0,
    dataDir: join(tmp, 'server'),
    apiKeys: [apiKey],
    logLevel: 'silent',
    // An event stream the proxy aborted upstream sometimes leaves its socket open (see the proxy
    // README); the server closes such connections once this grace period is over.
    shutdownGraceMs: 1000,
  });
  backend = http.createServer(
    createBackend({
      flowscaleUrl: server.url,
      flowscaleApiKey: apiKey,
      jwtSecret: 'e2e-secret',
      staticDir: outDir,
    }),
  );
  backend.listen(0, '127.0.0.1');
  await new Promise((resolve) => backend.once('listening', resolve));
  backendUrl = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  backend?.closeAllConnections();
  await new Promise((resolve) => (backend ? backend.close(resolve) : resolve(null)));
  await server?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

interface Seen {
  url: string;
  headers: Record<string, string>;
  body: string | null;
}

/**
 * Records every request the page makes, with all headers and the body. Chromium does not report
 * Blob-backed bodies (the SDK's multipart uploads) to the automation protocol, so the page's fetch
 * is also wrapped to capture each body it is given, byte for byte (latin1 keeps bytes 1:1).
 */
async function recordRequests(page: Page): Promise<() => Promise<Seen[]>> {
  await page.addInitScript(() => {
    const w = window as unknown as { __bodies: Array<{ url: string; body: Promise<string> }> };
    w.__bodies = [];
    const original = window.fetch.bind(window);
    window.fetch = (input, init) => {
      const body = init?.body;
      if (body) {
        w.__bodies.push({
          url: new URL(input instanceof Request ? input.url : String(input), location.href).href,
          // Byte-for-char (a browser's "latin1" TextDecoder is really windows-1252).
          body: new Response(body)
            .arrayBuffer()
            .then((b) => Array.from(new Uint8Array(b), (c) => String.fromCharCode(c)).join('')),
        });
      }
      return original(input, init);
    };
  });
  const pending: Array<Promise<Seen>> = [];
  page.on('request', (request) => {
    pending.push(
      request.allHeaders().then((headers) => ({
        url: request.url(),
        headers,
        body: request.postDataBuffer()?.toString('latin1') ?? null,
      })),
    );
  });
  return async () => {
    const fromFetch = await page.evaluate(() =>
      Promise.all(
        (window as unknown as { __bodies: Array<{ url: string; body: Promise<string> }> }).__bodies.map(
          async ({ url, body }) => ({ url, headers: {}, body: await body }),
        ),
      ),
    );
    return [...(await Promise.all(pending)), ...fromFetch];
  };
}

/** Records every status and progress value the run panel shows, from inside the page. */
async function watchRunPanel(page: Page) {
  await page.evaluate(() => {
    const w = window as unknown as { __states: string[] };
    w.__states = [];
    const note = () => {
      const run = document.querySelector('[data-testid="run"]');
      const bar = document.querySelector('[role="progressbar"]');
      if (!run) return;
      const state = `${run.getAttribute('data-status')}:${bar?.getAttribute('aria-valuenow')}`;
      if (w.__states.at(-1) !== state) w.__states.push(state);
    };
    new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true });
  });
  return () => page.evaluate(() => (window as unknown as { __states: string[] }).__states);
}

async function signIn(page: Page) {
  await page.goto(backendUrl);
  await page.getByLabel('Password').fill('demo');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('select[name="workflow"]').waitFor();
}

describe('the example page, in Chromium, through the backend proxy', () => {
  it('signs in, uploads an image to invert-image, shows live progress and the output', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
    onTestFinished(() => page.close());
    const requests = await recordRequests(page);
    const width = 96;
    const height = 64;
    const raw = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = (y * width + x) * 3;
        raw[i] = Math.round((x / width) * 255);
        raw[i + 1] = Math.round((y / height) * 255);
        raw[i + 2] = 200;
      }
    }
    const png = await sharp(raw, { raw: { width, height, channels: 3 } })
      .png()
      .toBuffer();

    await signIn(page);
    const options = await page.locator('select[name="workflow"]').locator('option').allTextContents();
    // The proxy's allow-list decides what the page can see.
    expect(options.sort()).toEqual(['blur-image', 'invert-image', 'slow-delay', 'text-echo']);
    await page.locator('select[name="workflow"]').selectOption({ label: 'invert-image' });
    await page.locator('input[type="file"][name="image_1"]').setInputFiles({
      name: 'gradient.png',
      mimeType: 'image/png',
      buffer: png,
    });
    const states = await watchRunPanel(page);
    await page.getByRole('button', { name: 'Run' }).click();

    const output = page.getByTestId('output-image');
    await output.waitFor({ timeout: 30_000 });
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('[data-testid="output-image"]');
      return img?.complete && img.naturalWidth > 0;
    });
    const seenStates = await states();
    expect(seenStates.at(-1)).toBe('completed:100');
    // The panel went through the run's earlier states before completing (live, not a final fetch).
    expect(seenStates.some((s) => /^(submitting|queued|running):/.test(s))).toBe(true);
    expect(await page.locator('.status').textContent()).toBe('completed');
    expect(new URL(page.url()).hash).toMatch(/^#run=/);

    // The image shown is the inverted upload, served through the proxy.
    const src = (await output.getAttribute('src'))!;
    expect(src.startsWith(`${backendUrl}/api/v1/files/`)).toBe(true);
    const shown = await (await fetch(src)).arrayBuffer();
    const pixels = await sharp(Buffer.from(shown)).removeAlpha().raw().toBuffer();
    expect(pixels.every((v, i) => v === 255 - raw[i]!)).toBe(true);

    // Let the progress bar's width transition finish before the picture.
    await page.waitForFunction(() => {
      const fill = document.querySelector('.bar > div');
      const track = fill?.parentElement;
      return !!fill && !!track && track.clientWidth - fill.getBoundingClientRect().width < 1;
    });
    const shot = join(tmp, 'screenshot.png');
    await page.screenshot({ path: shot, fullPage: true });
    if (process.env.UPDATE_SCREENSHOT) await copyFile(shot, screenshotTarget);

    // The browser only ever talked to the backend, and never with the API key.
    const seen = await requests();
    expect(seen.length).toBeGreaterThan(5);
    const uploaded = png.toString('latin1');
    expect(seen.some((r) => r.url.includes('/api/v1/runs?workflow_id=') && r.body?.includes(uploaded))).toBe(
      true,
    );
    for (const request of seen) {
      if (!request.url.startsWith('blob:'))
        expect(request.url.startsWith(backendUrl), request.url).toBe(true);
      expect(request.url).not.toContain(apiKey);
      expect(JSON.stringify(request.headers), request.url).not.toContain(apiKey);
      expect(Object.keys(request.headers)).not.toContain('x-api-key');
      expect(request.body?.includes(apiKey) ?? false, request.url).toBe(false);
    }
  }, 90_000);

  it('resumes a running run after a reload', async () => {
    const page = await browser.newPage();
    onTestFinished(() => page.close());
    await signIn(page);
    await page.locator('select[name="workflow"]').selectOption({ label: 'slow-delay' });
    await page.getByLabel(/value_4/).fill('3');
    await page.getByRole('button', { name: 'Run' }).click();
    await page.locator('[data-testid="run"][data-status="running"]').waitFor({ timeout: 20_000 });
    const runUrl = page.url();
    expect(new URL(runUrl).hash).toMatch(/^#run=/);

    // This wait once timed out in CI without a clue; a failure now says what the page and server saw.
    const trail: string[] = [];
    const at = (url: string) => url.replace(backendUrl, '');
    page.on('response', (r) => {
      if (r.url().includes('/api/v1/')) trail.push(`${r.status()} ${at(r.url())}`);
    });
    page.on('requestfailed', (r) => trail.push(`${r.failure()?.errorText} ${at(r.url())}`));
    await page.reload();
    // Straight back to the same run, replayed, and then followed live until it ends.
    await page.locator('[data-testid="run"]').waitFor();
    expect(page.url()).toBe(runUrl);
    await page
      .locator('[data-testid="run"][data-status="completed"]')
      .waitFor({ timeout: 20_000 })
      .catch(async (error: Error) => {
        const runId = new URL(runUrl).hash.replace(/^#run=/, '');
        const record = await fetch(`${server.url}/api/v1/runs/${runId}`, { headers: { 'X-API-KEY': apiKey } })
          .then((r) => r.json() as Promise<{ data?: { status?: string; inputs?: unknown } }>)
          .catch(() => undefined);
        const panel = await page.getByTestId('run').textContent();
        throw new Error(
          `${error.message}\nserver says: ${record?.data?.status}, inputs ${JSON.stringify(record?.data?.inputs)}; panel: ${panel}\npage requests: ${trail.join(' | ')}`,
        );
      });
    await expect(page.getByTestId('output-text').textContent()).resolves.toMatch(/from FlowScale|\S/);
  }, 60_000);

  it('returns to sign-in with a message when the session is refused (HTTP 401)', async () => {
    const page = await browser.newPage();
    onTestFinished(() => page.close());
    await signIn(page);
    // A session the backend no longer accepts (as after its expiry): the next call is answered 401.
    await page.evaluate(() => sessionStorage.setItem('flowscale-example-token', 'expired.or.forged'));
    await page.reload();
    await page.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: 20_000 });
    await expect(page.getByRole('status').textContent()).resolves.toContain('sign in again');
    // And signing in again works.
    await page.getByLabel('Password').fill('demo');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('select[name="workflow"]').waitFor();
  }, 60_000);

  it('labels inputs from input_schema: the default is filled in', async () => {
    const page = await browser.newPage();
    onTestFinished(() => page.close());
    await signIn(page);
    // The schema's default of blur-image's value_2: the summary alone does not say it.
    const res = await fetch(`${server.url}/api/v1/comfy/workflows/blur-image`, {
      headers: { 'X-API-KEY': apiKey },
    });
    const field = (
      (await res.json()) as { data: { input_schema: { name: string; default?: unknown }[] } }
    ).data.input_schema.find((f) => f.name === 'value_2')!;
    expect(field.default).toBeDefined();
    // The schema comes late; until then there is no field to type in. A field shown before its default
    // arrived took what was typed and the late default both ("3" became "32": the resume test's 3 s run
    // took 32 s, past its 20 s wait, in CI).
    await page.route('**/api/v1/comfy/workflows/*', async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await route.continue();
    });
    await page.locator('select[name="workflow"]').selectOption({ label: 'blur-image' });
    const input = page.locator('input[name="value_2"]');
    await input.waitFor();
    expect(await input.inputValue()).toBe(String(field.default));
    // slow-delay's summary names value_4 too: it is still not shown before its default, 2.
    await page.locator('select[name="workflow"]').selectOption({ label: 'slow-delay' });
    const seconds = page.locator('input[name="value_4"]');
    await seconds.waitFor();
    expect(await seconds.inputValue()).toBe('2');
  }, 60_000);
});
