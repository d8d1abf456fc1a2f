import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { GALLERY_MODEL, galleryGraph, loaderGraph, MODEL } from './graphs';
import {
  adminKey,
  openPage,
  type Setup,
  screenshot,
  seriousViolations,
  setUp,
  signIn,
  startRun,
} from './support';

const LOAD_MS = 1500;
let s: Setup;

beforeAll(async () => {
  // The embedded engine's test checkpoint loader waits this long for a model that is not warm.
  process.env.FLOWSCALE_ENGINE_MODEL_LOAD_MS = String(LOAD_MS);
  s = await setUp(async (dataDir) => {
    const checkpoints = join(dataDir, 'engine/models/checkpoints');
    await mkdir(checkpoints, { recursive: true });
    await writeFile(join(checkpoints, MODEL), 'not really weights');
    await writeFile(join(checkpoints, GALLERY_MODEL), 'not really weights either');
  });
}, 120_000);

afterAll(async () => {
  await s?.browser.close();
  await s?.server.close();
  if (s?.tmp) await rm(s.tmp, { recursive: true, force: true });
});

describe('the dashboard gallery, fleet, uploads and run times, in Chromium', () => {
  it('shows each output kind in its own element, text with copy, and a download for each', async () => {
    await s.api.deployWorkflow({ name: 'every-output', workflow: galleryGraph });
    const runId = (await s.api.executeWorkflow('every-output', {})).data.run_id;
    const { page, problems } = await openPage(s.browser);
    onTestFinished(() => page.close());
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await signIn(page, s.dashboard);
    await page.goto(`${s.dashboard}#/runs/${runId}`);
    await page.locator('[data-testid="run"][data-status="completed"]').waitFor({ timeout: 30_000 });
    const outputs = page.locator('[data-testid="output"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="output"]').length === 6);
    const byFile = async (ext: string) => outputs.filter({ hasText: `.${ext}` });

    // Stills and animations are <img>s, which play animations; the WEBP and the PNG really are animated.
    const images = await outputs.locator('img').evaluateAll((els) => els.map((el) => el.getAttribute('src')));
    expect(images).toHaveLength(3);
    const animated = await page.evaluate(async (srcs) => {
      const result: Array<[string, number]> = [];
      for (const src of srcs as string[]) {
        const response = await fetch(src);
        const type = response.headers.get('content-type') ?? '';
        const decoder = new (
          window as unknown as {
            ImageDecoder: new (init: {
              data: ReadableStream | null;
              type: string;
            }) => {
              tracks: { ready: Promise<void>; selectedTrack: { frameCount: number } };
            };
          }
        ).ImageDecoder({ data: response.body, type });
        await decoder.tracks.ready;
        result.push([type, decoder.tracks.selectedTrack.frameCount]);
      }
      return result.sort();
    }, images);
    expect(animated).toEqual([
      ['image/png', 1],
      ['image/png', 2],
      ['image/webp', 2],
    ]);
    await page.waitForFunction(() =>
      [...document.querySelectorAll<HTMLImageElement>('[data-testid="output"] img')].every(
        (img) => img.complete && img.naturalWidth === 64,
      ),
    );

    // A <video> player for the AVI (which Chromium cannot decode: the page says so and offers the file).
    const video = (await byFile('avi')).locator('video[controls]');
    await expect(video.count()).resolves.toBe(1);
    await (await byFile('avi')).getByTestId('unplayable').waitFor();
    // An <audio> player that really plays the WAV: half a second of tone.
    const audio = (await byFile('wav')).locator('audio[controls]');
    await page.waitForFunction(() => (document.querySelector('audio')?.readyState ?? 0) >= 1);
    expect(await audio.evaluate((el: HTMLAudioElement) => el.duration)).toBeCloseTo(0.5, 2);

    // The custom node's text file, shown as text (never as markup), with a working copy button.
    const text = (await byFile('txt')).locator('.text-output');
    await expect(text.textContent()).resolves.toBe('custom <b>notes</b>');
    await expect((await byFile('txt')).locator('b').count()).resolves.toBe(0);
    await (await byFile('txt')).getByRole('button', { name: 'Copy' }).click();
    await (await byFile('txt')).getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('custom <b>notes</b>');

    // Every output has a download link; each serves its file with the kind's content type.
    const kinds = await outputs.evaluateAll((els) =>
      els.map((el) => [el.getAttribute('data-kind'), el.querySelector('a[download]')?.getAttribute('href')]),
    );
    const record = (await s.api.getRun(runId)).data.outputs ?? [];
    expect(kinds.map(([kind]) => kind).sort()).toEqual(['audio', 'image', 'image', 'image', 'text', 'video']);
    for (const [kind, href] of kinds) {
      const response = await fetch(href as string);
      const type = response.headers.get('content-type') ?? '';
      expect(type).toMatch(kind === 'text' ? /^text\/plain/ : new RegExp(`^${kind}/`));
      const size = (await response.arrayBuffer()).byteLength;
      // By path: each read signs its URL afresh, so the expiry in the query differs across a second.
      const path = new URL(href as string).pathname;
      expect(record.find((o) => o.url && new URL(o.url).pathname === path)?.size).toBe(size);
    }
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(s.tmp, page, 'dashboard-run-detail.png', true);
    expect(problems).toEqual([]);
  }, 90_000);

  it('shows each backend with status, queue, the run it executes, node count, models and VRAM', async () => {
    const health = (await s.api.checkHealth()).data[0] as unknown as Record<string, unknown>;
    const fleet = (
      (await (
        await fetch(`${s.server.url}/api/v1/admin/fleet`, { headers: { 'X-API-KEY': adminKey } })
      ).json()) as { data: Array<Record<string, unknown>> }
    ).data[0] as Record<string, unknown>;
    const { page, problems } = await openPage(s.browser);
    onTestFinished(() => page.close());
    await signIn(page, s.dashboard);
    const slow = await startRun(s.server.url, 'slow-delay', { value_4: '30' });
    onTestFinished(() => s.api.cancelRun(slow).then(() => undefined));
    const queued = await startRun(s.server.url, 'slow-delay', { value_4: '30' });
    onTestFinished(() => s.api.cancelRun(queued).then(() => undefined));
    await page.goto(`${s.dashboard}#/fleet`);
    const card = page.locator(`li.card[data-backend="${health.container}"]`);
    await card
      .getByTestId('executing')
      .getByRole('link', { name: slow.slice(0, 8) })
      .waitFor({ timeout: 20_000 });
    // The status is the server's, as it is now (the backend is busy with the run).
    const status = String(((await s.api.checkHealth()).data[0] as { status: string }).status);
    await card.locator('.badge', { hasText: new RegExp(`^${status}$`) }).waitFor();
    await expect(card.getByTestId('node-count').textContent()).resolves.toBe(String(health.node_count));
    expect(Number(health.node_count)).toBeGreaterThan(10);
    // An admin sees the model files by name; the VRAM of each device the backend reports.
    await expect(card.getByTestId('models').textContent()).resolves.toMatch(
      new RegExp(`checkpoints: 2 \\(.*${MODEL.replaceAll('.', '\\.')}`),
    );
    const devices = fleet.devices as Array<{ vram_total: number; vram_free: number }>;
    expect(devices.length).toBeGreaterThan(0);
    const gib = (n: number) => `${(n / 1024 ** 3).toFixed(1)} GiB`;
    await expect(card.getByTestId('device').first().textContent()).resolves.toContain(
      `of ${gib(devices[0]?.vram_total as number)}`,
    );
    // The queue: one running, the other waiting behind it (the embedded engine runs one prompt at a time).
    const waiting = card.locator('dt', { hasText: 'Waiting' }).locator('xpath=following-sibling::dd[1]');
    const running = card.locator('dt', { hasText: /^Running$/ }).locator('xpath=following-sibling::dd[1]');
    await expect(running.textContent()).resolves.toBe('1');
    await page.waitForFunction(
      (id) => document.querySelector(`[data-backend] [data-testid="executing"]`)?.textContent?.includes(id),
      slow.slice(0, 8),
    );
    const queue = (await s.api.getQueue()).data.find((q) => q.container === health.container)?.queue;
    await waiting.filter({ hasText: new RegExp(`^${queue?.queue_pending.length}$`) }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(s.tmp, page, 'dashboard-fleet.png');
    expect(problems).toEqual([]);
  }, 60_000);

  it('shows upload progress while a dropped image uploads', async () => {
    // Noise, so the PNG stays large: about 3 MB.
    const noise = Buffer.alloc(1000 * 1000 * 3);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
    const png = await sharp(noise, { raw: { width: 1000, height: 1000, channels: 3 } })
      .png({ compressionLevel: 0 })
      .toBuffer();
    const { page, problems } = await openPage(s.browser);
    onTestFinished(() => page.close());
    await signIn(page, s.dashboard);
    await page.goto(`${s.dashboard}#/workflows/${(await s.api.getWorkflow('invert-image')).data.id}`);
    await page
      .locator('input[type="file"][name="image_1"]')
      .setInputFiles({ name: 'noise.png', mimeType: 'image/png', buffer: png });
    // Uploads over loopback finish in a blink; throttled to 1 MB/s the bar has time to move.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 1_000_000,
    });
    await page.evaluate(() => {
      const w = window as unknown as { __upload: Array<[string, string]> };
      w.__upload = [];
      new MutationObserver(() => {
        const box = document.querySelector('[data-testid="upload-progress"]');
        const value = box?.querySelector('[role="progressbar"]')?.getAttribute('aria-valuenow');
        const text = box?.querySelector('.num')?.textContent ?? '';
        if (value && w.__upload.at(-1)?.[0] !== value) w.__upload.push([value, text]);
      }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    });
    await page.getByRole('button', { name: 'Run' }).click();
    await page.getByRole('button', { name: 'Uploading…' }).waitFor();
    await page.locator('[data-testid="run"]').waitFor({ timeout: 60_000 });
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    const seen = await page.evaluate(
      () => (window as unknown as { __upload: Array<[string, string]> }).__upload,
    );
    const values = seen.map(([value]) => Number(value));
    expect(values.filter((v) => v > 0 && v < 100).length).toBeGreaterThanOrEqual(2);
    expect([...values].sort((a, b) => a - b)).toEqual(values);
    const total = `${(png.length / 1024 / 1024).toFixed(1)} MiB`;
    expect(seen.every(([, text]) => text.endsWith(`of ${total}`))).toBe(true);
    await page.locator('[data-testid="run"][data-status="completed"]').waitFor({ timeout: 60_000 });
    expect(problems).toEqual([]);
  }, 120_000);

  it('shows queue, model-load and run time apart, the load found from the fleet inventory', async () => {
    await s.api.deployWorkflow({ name: 'load-and-render', workflow: loaderGraph });
    const runId = (await s.api.executeWorkflow('load-and-render', {})).data.run_id;
    const { page, problems, urls } = await openPage(s.browser);
    onTestFinished(() => page.close());
    await signIn(page, s.dashboard);
    await page.goto(`${s.dashboard}#/runs/${runId}`);
    await page.locator('[data-testid="run"][data-status="completed"]').waitFor({ timeout: 30_000 });
    await page.locator('[data-event="run.completed"]').waitFor();
    const ms = async (id: string) => Number(await page.getByTestId(id).getAttribute('data-ms'));
    await page.waitForFunction(() =>
      document.querySelector('[data-testid="time-load"]')?.getAttribute('data-ms'),
    );
    const run = (await s.api.getRun(runId)).data;
    const ran = Date.parse(run.completed_at as string) - Date.parse(run.started_at as string);
    const [queue, load, rest] = [await ms('time-queue'), await ms('time-load'), await ms('time-run')];
    // The cold checkpoint takes LOAD_MS to load; the render (0.3 s) is counted as running, not loading.
    expect(load).toBeGreaterThanOrEqual(LOAD_MS - 100);
    expect(load + rest).toBe(ran);
    expect(rest).toBeGreaterThanOrEqual(300 - 100);
    expect(queue).toBe(Date.parse(run.started_at as string) - Date.parse(run.created_at as string));
    await expect(page.getByTestId('time-load').textContent()).resolves.toContain(
      'EngineTestCheckpointLoader',
    );
    // For an admin the loader classes come from the inventory, which found the checkpoint COMBO.
    expect(urls.some((url) => url.endsWith('/api/v1/admin/fleet'))).toBe(true);
    const inventory = (await (
      await fetch(`${s.server.url}/api/v1/admin/fleet`, { headers: { 'X-API-KEY': adminKey } })
    ).json()) as { data: Array<{ model_inputs: unknown[] }> };
    expect(inventory.data[0]?.model_inputs).toContainEqual({
      class_type: 'EngineTestCheckpointLoader',
      input: 'ckpt_name',
      folder: 'checkpoints',
    });

    // A member key cannot read the inventory; the class-name rule gives the same split.
    const member = (await s.api.createApiKey({ name: 'times-member', role: 'member' })).data.key;
    const other = await openPage(s.browser);
    onTestFinished(() => other.page.close());
    await signIn(other.page, s.dashboard, member);
    await other.page.goto(`${s.dashboard}#/runs/${runId}`);
    await other.page.locator('[data-event="run.completed"]').waitFor({ timeout: 20_000 });
    await other.page.getByTestId('time-load').filter({ hasText: 'EngineTestCheckpointLoader' }).waitFor();
    expect(Number(await other.page.getByTestId('time-load').getAttribute('data-ms'))).toBe(load);
    expect(other.urls.some((url) => url.includes('/admin/fleet'))).toBe(false);
    expect([...problems, ...other.problems]).toEqual([]);
  }, 60_000);
});
