import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startServer } from '@flowscale/server';
import { FlowscaleAdminAPI } from 'flowscale/admin';
import { type Browser, chromium, type Page } from 'playwright-core';
import sharp from 'sharp';

const execFileAsync = promisify(execFile);
const viteBin = join(dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin/vite.js');

export const root = fileURLToPath(new URL('..', import.meta.url));
export const docsDir = fileURLToPath(new URL('../../../docs/', import.meta.url));

/** A distinctive key, so finding it in a URL or in localStorage is meaningful. */
export const adminKey = `fs-dash-${randomBytes(12).toString('hex')}`;

export interface Setup {
  tmp: string;
  server: Awaited<ReturnType<typeof startServer>>;
  api: FlowscaleAdminAPI;
  browser: Browser;
  dashboard: string;
}

/**
 * Builds the dashboard into a temp dir, starts the real server (embedded engine) on it, launches Chromium.
 * `prepare` runs first with the server's data dir (to put model files where the embedded engine looks).
 */
export async function setUp(prepare?: (dataDir: string) => Promise<void>): Promise<Setup> {
  const tmp = await mkdtemp(join(tmpdir(), 'dashboard-e2e-'));
  await prepare?.(join(tmp, 'data'));
  const outDir = join(tmp, 'dashboard');
  // In a child process as `npm run build` does: inside vitest, NODE_ENV=test would give React's dev build.
  await execFileAsync(
    process.execPath,
    [viteBin, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'error'],
    {
      cwd: root,
      env: { ...process.env, NODE_ENV: 'production' },
    },
  );
  const server = await startServer({
    port: 0,
    dataDir: join(tmp, 'data'),
    apiKeys: [adminKey],
    logLevel: 'silent',
    dashboardDir: outDir,
    shutdownGraceMs: 1000,
  });
  const api = new FlowscaleAdminAPI({
    apiKey: adminKey,
    baseUrl: server.url,
    enableLogging: false,
    retries: 0,
  });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return { tmp, server, api, browser, dashboard: `${server.url}/dashboard/` };
}

/**
 * A page that fails the test on any dialog (alert from an injected script), page error or CSP violation,
 * and remembers every URL it requested (none may carry the key).
 */
export async function openPage(browser: Browser, width = 1200, height = 860) {
  const page = await browser.newPage({ viewport: { width, height } });
  const problems: string[] = [];
  const urls: string[] = [];
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) problems.push(`csp: ${message.text()}`);
  });
  page.on('request', (request) => urls.push(request.url()));
  return { page, problems, urls };
}

export async function signIn(page: Page, dashboard: string, key = adminKey): Promise<void> {
  await page.goto(dashboard);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Runs', level: 1 }).waitFor();
}

export async function gradientPng(width = 96, height = 64): Promise<{ png: Buffer; raw: Buffer }> {
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
  return { png, raw };
}

const axeSource = readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's serious and critical violations on the page as it is (evaluated over CDP, outside the CSP). */
export async function seriousViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(await axeSource);
  const result = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run: (ctx: Document) => Promise<{
            violations: Array<{ id: string; impact: string; nodes: Array<{ target: unknown }> }>;
          }>;
        };
      }
    ).axe;
    const { violations } = await axe.run(document);
    return violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${JSON.stringify(v.nodes.slice(0, 3).map((n) => n.target))}`);
  });
  return result;
}

/** Starts a run over HTTP, as another client would. */
export async function startRun(
  url: string,
  workflow: string,
  fields: Record<string, string>,
  groupId?: string,
): Promise<string> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  const group = groupId ? `&group_id=${encodeURIComponent(groupId)}` : '';
  const response = await fetch(`${url}/api/v1/runs?workflow_id=${encodeURIComponent(workflow)}${group}`, {
    method: 'POST',
    headers: { 'X-API-KEY': adminKey },
    body: form,
  });
  const body = (await response.json()) as { data?: { run_id: string }; errors?: string };
  if (!body.data) throw new Error(`Could not start ${workflow}: ${response.status} ${body.errors}`);
  return body.data.run_id;
}

/** Screenshots for the docs: written to the temp dir, copied to docs/ with UPDATE_SCREENSHOTS=1. */
export async function screenshot(tmp: string, page: Page, name: string, fullPage = false): Promise<void> {
  const file = join(tmp, name);
  await page.screenshot({ path: file, fullPage });
  if (process.env.UPDATE_SCREENSHOTS) await copyFile(file, join(docsDir, name));
}
