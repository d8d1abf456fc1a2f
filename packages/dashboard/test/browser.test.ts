import { rm } from 'node:fs/promises';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  adminKey,
  gradientPng,
  openPage,
  type Setup,
  seriousViolations,
  setUp,
  screenshot as shot,
  signIn,
  startRun,
} from './support';

let s: Setup;

beforeAll(async () => {
  s = await setUp();
}, 120_000);

afterAll(async () => {
  await s?.browser.close();
  await s?.server.close();
  if (s?.tmp) await rm(s.tmp, { recursive: true, force: true });
});

const screenshot = (page: import('playwright-core').Page, name: string) => shot(s.tmp, page, name);

const workflowId = async (name: string) => (await s.api.getWorkflow(name)).data.id;

describe('the dashboard, in Chromium, against the real server and engine', () => {
  it('serves the page with a strict CSP, links it from /, and signs in, refuses a wrong key, signs out', async () => {
    const response = await fetch(s.dashboard);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(await (await fetch(`${s.server.url}/`)).text()).toContain('href="dashboard/"');

    const { page, problems, urls } = await openPage(s.browser);
    onTestFinished(() => page.close());
    await page.goto(s.dashboard);
    await page.getByLabel('API key').fill('not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/refused/);

    await signIn(page, s.dashboard);
    expect(await page.evaluate(() => Object.keys(localStorage).length)).toBe(0);
    expect(await page.evaluate(() => Object.values(sessionStorage))).toContain(adminKey);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You signed out.').waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    for (const url of urls) expect(url).not.toContain(adminKey);
    expect(problems).toEqual([]);
  }, 60_000);

  it('tries invert-image with an uploaded image, follows it live to completion and opens the output', async () => {
    const { page, problems, urls } = await openPage(s.browser);
    onTestFinished(() => page.close());
    const { png, raw } = await gradientPng();
    await signIn(page, s.dashboard);
    await page.goto(`${s.dashboard}#/workflows/${await workflowId('invert-image')}`);
    await page
      .locator('input[type="file"][name="image_1"]')
      .setInputFiles({ name: 'gradient.png', mimeType: 'image/png', buffer: png });
    await screenshot(page, 'dashboard-try-it.png');
    // Every status the run panel shows, recorded from inside the page.
    await page.evaluate(() => {
      const w = window as unknown as { __states: string[] };
      w.__states = [];
      new MutationObserver(() => {
        const status = document.querySelector('[data-testid="run"]')?.getAttribute('data-status');
        if (status && w.__states.at(-1) !== status) w.__states.push(status);
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    await page.getByRole('button', { name: 'Run' }).click();
    await page.locator('[data-testid="run"][data-status="completed"]').waitFor({ timeout: 30_000 });
    const states = await page.evaluate(() => (window as unknown as { __states: string[] }).__states);
    expect(states.at(-1)).toBe('completed');
    expect(states.length).toBeGreaterThan(1);

    const image = page.locator('[data-testid="output"] img');
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('[data-testid="output"] img');
      return img?.complete && img.naturalWidth > 0;
    });
    const src = (await image.getAttribute('src')) as string;
    const pixels = await sharp(Buffer.from(await (await fetch(src)).arrayBuffer()))
      .removeAlpha()
      .raw()
      .toBuffer();
    expect(pixels.every((v, i) => v === 255 - (raw[i] as number))).toBe(true);

    // The run page: timeline with times, the input previewed from the server, the output.
    await page.getByRole('link', { name: 'Open the run page' }).click();
    await page.locator('[data-event="run.completed"]').waitFor();
    expect(await page.locator('.timeline li').count()).toBeGreaterThanOrEqual(4);
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('img.input-preview');
      return img?.complete && img.naturalWidth === 96;
    });
    await page.waitForFunction(
      () => document.querySelector<HTMLImageElement>('[data-testid="output"] img')?.naturalWidth,
    );
    for (const url of urls) expect(url).not.toContain(adminKey);
    expect(problems).toEqual([]);
  }, 60_000);

  it('cancels a running run, runs one again with the same inputs, and shows a failure with node and class', async () => {
    const { page, problems } = await openPage(s.browser);
    onTestFinished(() => page.close());
    await signIn(page, s.dashboard);
    const slow = await startRun(s.server.url, 'slow-delay', { value_4: '20', default_value_1: 'again' });
    await page.goto(`${s.dashboard}#/runs/${slow}`);
    await page.locator('[data-testid="run"][data-status="running"]').waitFor({ timeout: 20_000 });
    // `running` comes with run.started; the node it runs arrives with the next event.
    await page
      .getByTestId('current-node')
      .filter({ hasText: /Running node \d/ })
      .waitFor({ timeout: 20_000 });
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await page.locator('[data-testid="run"][data-status="cancelled"]').waitFor({ timeout: 20_000 });
    expect((await s.api.getRun(slow)).data.status).toBe('cancelled');

    await page.getByRole('button', { name: 'Run again with these inputs' }).click();
    await page.waitForURL((url) => url.hash.startsWith('#/runs/') && !url.hash.includes(slow));
    const again = decodeURIComponent(new URL(page.url()).hash.slice('#/runs/'.length));
    const rerun = (await s.api.getRun(again)).data;
    expect(rerun.inputs?.map((i) => [i.path, i.value]).sort()).toEqual([
      ['default_value_1', 'again'],
      ['value_4', '20'],
    ]);
    await s.api.cancelRun(again);

    // A file that is not an image fails in the load node; the page names the node and its class.
    await page.goto(`${s.dashboard}#/workflows/${await workflowId('invert-image')}`);
    await page
      .locator('input[type="file"][name="image_1"]')
      .setInputFiles({ name: 'broken.png', mimeType: 'image/png', buffer: Buffer.from('not an image') });
    await page.getByRole('button', { name: 'Run' }).click();
    const failure = page.getByTestId('run-error');
    await failure.waitFor({ timeout: 20_000 });
    await expect(failure.textContent()).resolves.toMatch(/Cannot load image.*node 1.*FSLoadImage/s);
    expect(problems).toEqual([]);
  }, 60_000);

  it('deploys by file, refuses a UI-format file, and deletes a workflow after confirmation', async () => {
    const { page, problems } = await openPage(s.browser);
    onTestFinished(() => page.close());
    await signIn(page, s.dashboard);
    await page.goto(`${s.dashboard}#/workflows`);
    const file = page.locator('input[name="workflow-file"]');
    const ui = { nodes: [{ id: 1, type: 'LoadImage' }], links: [] };
    await file.setInputFiles({
      name: 'ui.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(ui)),
    });
    await expect(page.getByTestId('deploy-problem').textContent()).resolves.toContain('Save (API Format)');

    const graph = (await s.api.getWorkflow('text-echo')) && {
      '1': { class_type: 'FSLoadText', inputs: { default_value: 'hi', label: 'text' } },
      '2': { class_type: 'FSSaveText', inputs: { text: ['1', 0], filename_prefix: 'Dropped' } },
    };
    await file.setInputFiles({
      name: 'dropped-echo.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(graph)),
    });
    await expect(page.getByLabel('Name').inputValue()).resolves.toBe('dropped-echo');
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    const card = page.locator('li.card', { has: page.getByRole('heading', { name: 'dropped-echo' }) });
    await card.waitFor();
    expect((await s.api.getWorkflow('dropped-echo')).data.input_schema.length).toBe(1);

    await card.getByRole('button', { name: /Delete/ }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(card.count()).resolves.toBe(1);
    await card.getByRole('button', { name: /Delete/ }).click();
    await dialog.getByRole('button', { name: 'Delete workflow' }).click();
    await card.waitFor({ state: 'detached' });
    await expect(s.api.getWorkflow('dropped-echo')).rejects.toMatchObject({ status: 404 });
    expect(problems).toEqual([]);
  }, 60_000);

  it('creates a key (shown once, with copy) and revokes it', async () => {
    const { page, problems } = await openPage(s.browser);
    onTestFinished(() => page.close());
    await signIn(page, s.dashboard);
    await page.getByRole('link', { name: 'Keys' }).click();
    await page.getByLabel('Name').fill('ci-created');
    await page.getByRole('button', { name: 'Create key' }).click();
    const created = page.getByTestId('created-key');
    await created.getByRole('button', { name: 'Copy key' }).waitFor();
    const key = ((await created.locator('code').textContent()) ?? '').trim();
    const asKey = (k: string) =>
      fetch(`${s.server.url}/api/v1/comfy/workflows`, { headers: { 'X-API-KEY': k } });
    expect((await asKey(key)).status).toBe(200);

    const row = page.locator('tr[data-key="ci-created"]');
    await row.getByRole('button', { name: /Revoke/ }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke key' }).click();
    await row.getByText(/^revoked/).waitFor();
    expect((await asKey(key)).status).toBe(401);
    expect(problems).toEqual([]);
  }, 60_000);

  it('updates the runs table live, without a reload, while a run started elsewhere progresses', async () => {
    const { page, problems } = await openPage(s.browser);
    onTestFinished(() => page.close());
    await signIn(page, s.dashboard);
    await page.evaluate(() => {
      (window as unknown as { __sameDocument: boolean }).__sameDocument = true;
    });
    const id = await startRun(s.server.url, 'slow-delay', { value_4: '2' });
    const row = page.locator(`tr[data-run-id="${id}"]`);
    await row.waitFor({ timeout: 15_000 });
    await page.locator(`tr[data-run-id="${id}"][data-status="running"]`).waitFor({ timeout: 15_000 });
    await page.locator(`tr[data-run-id="${id}"][data-status="completed"]`).waitFor({ timeout: 20_000 });
    await expect(row.getByRole('progressbar').getAttribute('aria-valuenow')).resolves.toBe('100');
    expect(
      await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument),
    ).toBe(true);
    expect(problems).toEqual([]);
  }, 60_000);

  it('renders every server string as text: no script from a workflow, a group or an output runs', async () => {
    const payload = '<img src=x onerror=alert(1)>';
    await expect(s.api.deployWorkflow({ name: payload, workflow: {} })).rejects.toMatchObject({
      status: 422,
    });
    const echo = (await s.api.getWorkflow('text-echo')).data;
    const graph = {
      '1': { class_type: 'FSLoadText', inputs: { default_value: 'x', label: payload } },
      '3': { class_type: 'FSSaveText', inputs: { text: ['1', 0], filename_prefix: 'X' } },
    };
    await s.api.deployWorkflow({ name: 'xss-echo', description: payload, workflow: graph });
    const script = `<script>window.__xss = 1; alert(2)</script>${payload}`;
    const run = await startRun(s.server.url, 'xss-echo', { default_value_1: script }, payload);
    const { page, problems } = await openPage(s.browser);
    onTestFinished(() => page.close());
    await signIn(page, s.dashboard);
    await page.locator(`tr[data-run-id="${run}"]`).getByText(payload).waitFor();
    await page.goto(`${s.dashboard}#/workflows`);
    await page.getByText(payload).first().waitFor();
    await page.goto(`${s.dashboard}#/workflows/xss-echo`);
    await page.getByText(payload).first().waitFor();
    await page.goto(`${s.dashboard}#/runs/${run}`);
    await expect(page.locator('.text-output').textContent()).resolves.toBe(script);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await page.locator('main img[src="x"]').count()).toBe(0);
    expect(echo.name).toBe('text-echo');
    expect(problems).toEqual([]);
  }, 60_000);

  it('has no serious or critical axe-core violations on any page, and works at 375 px', async () => {
    const { page, problems } = await openPage(s.browser);
    onTestFinished(() => page.close());
    await page.goto(s.dashboard);
    const found: Record<string, string[]> = { signin: await seriousViolations(page) };
    await signIn(page, s.dashboard);
    const done = await startRun(s.server.url, 'text-echo', { default_value_1: 'axe' });
    await s.api.getRun(done);
    const pages: Array<[string, string, string]> = [
      ['runs', '#/runs', 'tr[data-run-id]'],
      ['run', `#/runs/${done}`, '[data-testid="run"][data-status="completed"] .text-output'],
      ['workflows', '#/workflows', 'li.card'],
      ['try-it', `#/workflows/${await workflowId('blur-image')}`, 'form.try-form'],
      ['fleet', '#/fleet', 'li.card[data-backend]'],
      ['keys', '#/keys', 'form[aria-label="Create an API key"]'],
    ];
    for (const [name, hash, ready] of pages) {
      await page.goto(`${s.dashboard}${hash}`);
      await page.locator(ready).first().waitFor({ timeout: 20_000 });
      found[name] = await seriousViolations(page);
      if (name === 'runs') await screenshot(page, 'dashboard-runs.png');
    }
    expect(found).toEqual(Object.fromEntries(Object.keys(found).map((k) => [k, []])));

    await page.setViewportSize({ width: 375, height: 740 });
    for (const hash of ['#/runs', `#/runs/${done}`]) {
      await page.goto(`${s.dashboard}${hash}`);
      await page
        .locator(hash === '#/runs' ? 'tr[data-run-id]' : '.text-output')
        .first()
        .waitFor();
      // Nothing sticks out sideways, and the run link / output is on screen.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    }
    await page.getByRole('button', { name: 'Copy' }).waitFor();
    expect(problems).toEqual([]);
  }, 90_000);
});
