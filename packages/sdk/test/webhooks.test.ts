import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyWebhook, WebhookVerificationError } from '../src/webhooks/index';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const OTHER = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';
const BODY = '{"type":"run.completed","timestamp":"2025-01-01T00:00:00.000Z","data":{"run":{"_id":"r1"}}}';

/** A message signed by the reference implementation, `ageSeconds` ago. */
function signed(secret = SECRET, ageSeconds = 0, body = BODY) {
  const at = new Date(Date.now() - ageSeconds * 1000);
  return {
    body,
    headers: {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign('msg_1', at, body),
    },
  };
}

describe('verifyWebhook (Node)', () => {
  it('accepts what the standardwebhooks library signs, from a string, bytes, Headers or Node headers', async () => {
    const { body, headers } = signed();
    expect((await verifyWebhook(body, headers, SECRET)).type).toBe('run.completed');
    await verifyWebhook(new TextEncoder().encode(body), new Headers(headers), SECRET);
    const nodeStyle = { ...headers, 'Webhook-Signature': [headers['webhook-signature']] };
    delete (nodeStyle as Record<string, unknown>)['webhook-signature'];
    await verifyWebhook(Buffer.from(body), nodeStyle, SECRET);
  });

  it('accepts any of several signatures or secrets (a rotation overlap)', async () => {
    const old = signed(OTHER);
    const both = `${signed(SECRET).headers['webhook-signature']} ${old.headers['webhook-signature']}`;
    await verifyWebhook(BODY, { ...old.headers, 'webhook-signature': both }, SECRET);
    await verifyWebhook(BODY, old.headers, [SECRET, OTHER]);
  });

  it('rejects a tampered body, a wrong secret, an old or future timestamp, and missing headers', async () => {
    const { body, headers } = signed();
    const reject = (promise: Promise<unknown>, pattern: RegExp) =>
      expect(promise).rejects.toThrow(
        expect.objectContaining({
          name: 'WebhookVerificationError',
          message: expect.stringMatching(pattern),
        }),
      );
    await reject(verifyWebhook(body.replace('r1', 'r2'), headers, SECRET), /signature/);
    await reject(verifyWebhook(body, headers, OTHER), /signature/);
    await reject(verifyWebhook(signed(SECRET, 301).body, signed(SECRET, 301).headers, SECRET), /too old/);
    await reject(verifyWebhook(signed(SECRET, -301).body, signed(SECRET, -301).headers, SECRET), /too new/);
    await reject(verifyWebhook(body, { ...headers, 'webhook-id': 'msg_2' }, SECRET), /signature/);
    await reject(verifyWebhook(body, { 'webhook-id': 'msg_1' }, SECRET), /Missing/);
    await reject(verifyWebhook(body, { ...headers, 'webhook-timestamp': '1e9' }, SECRET), /timestamp/);
    // Within the 5 minutes it passes; the tolerance is an option.
    await verifyWebhook(signed(SECRET, 290).body, signed(SECRET, 290).headers, SECRET);
    await reject(
      verifyWebhook(signed(SECRET, 60).body, signed(SECRET, 60).headers, SECRET, { toleranceSeconds: 30 }),
      /too old/,
    );
    expect(new WebhookVerificationError('x')).toBeInstanceOf(Error);
  });
});

describe('flowscale/webhooks as a browser bundle', () => {
  async function bundle(entry: string) {
    const result = await build({
      entryPoints: [join(import.meta.dirname, entry)],
      bundle: true,
      minify: true,
      platform: 'browser', // a node: import would fail the build
      format: 'esm',
      write: false,
      logLevel: 'silent',
    });
    return result.outputFiles[0]!.text;
  }

  it('is small, and the core entry carries none of it', async () => {
    const code = await bundle('../src/webhooks/index.ts');
    expect(gzipSync(code, { level: 9 }).byteLength).toBeLessThanOrEqual(1024);
    const core = await bundle('../src/index.ts');
    expect(core).not.toContain('webhook-signature');
    expect(core).not.toContain('WebhookVerificationError');
  });

  const CHROMIUM = '/usr/bin/chromium';
  const PAGE = `<!doctype html><title>w</title><script type="module">
import * as webhooks from '/webhooks.js'; window.webhooks = webhooks;
</script>`;
  let pages: Server | undefined;
  afterAll(async () => {
    await new Promise((resolve) => (pages ? pages.close(resolve) : resolve(undefined)));
  });

  it.skipIf(!existsSync(CHROMIUM))('verifies and rejects in headless Chromium (Web Crypto)', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'flowscale-webhooks-')), 'webhooks.js');
    const root = join(import.meta.dirname, '..', '..', '..');
    execFileSync(
      join(root, 'node_modules/.bin/esbuild'),
      [
        join(import.meta.dirname, '../src/webhooks/index.ts'),
        '--bundle',
        '--format=esm',
        '--platform=browser',
        `--outfile=${out}`,
      ],
      { stdio: 'pipe' },
    );
    const code = readFileSync(out);
    const server = createServer((req, res) => {
      if (req.url === '/webhooks.js') res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(code);
      else res.writeHead(200, { 'Content-Type': 'text/html' }).end(PAGE);
    });
    pages = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu'],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      await page.waitForFunction(() => 'webhooks' in window);
      const { body, headers } = signed();
      const result = await page.evaluate(
        async ({ body, headers, secret }) => {
          const { verifyWebhook } = (
            window as unknown as { webhooks: typeof import('../src/webhooks/index') }
          ).webhooks;
          const good = await verifyWebhook(body, new Headers(headers), secret);
          const bad = await verifyWebhook(`${body} `, headers, secret).then(
            () => 'accepted',
            (error: Error) => error.name,
          );
          return { type: good.type, bad };
        },
        { body, headers, secret: SECRET },
      );
      expect(result).toEqual({ type: 'run.completed', bad: 'WebhookVerificationError' });
    } finally {
      await browser.close();
    }
  });
});
