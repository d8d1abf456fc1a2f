import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '@flowscale/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli';
import { E2E_TIMEOUT, startTestServer, type TestServer } from './helpers/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
}, E2E_TIMEOUT);
afterAll(async () => {
  await server?.close();
}, E2E_TIMEOUT);

const cli = (args: string[], env: Record<string, string | undefined> = {}, cwd?: string) =>
  runCli(args, { cwd: cwd ?? server.work, env: { ...server.env, ...env } });

/** Our failure contract: exactly one line on stderr, no stack trace. */
function expectOneLineError(stderr: string): void {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
}

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('health, queue, workflows', { timeout: E2E_TIMEOUT }, () => {
  it('health prints the server and its backends', async () => {
    const human = await cli(['health']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(server.url);
    expect(human.stdout).toMatch(/BACKEND\s+STATUS/);

    const json = await cli(['health', '--json']);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.url).toBe(server.url);
    expect(parsed.backends.length).toBeGreaterThan(0);
    for (const b of parsed.backends) expect(['idle', 'running']).toContain(b.status);
  });

  it('health exits 1 when no ComfyUI backend is reachable', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fs-cli-nobackend-'));
    const port = await closedPort();
    const lonely = await startServer({
      port: 0,
      dataDir,
      apiKeys: ['test-key'],
      comfyuiUrls: [`http://127.0.0.1:${port}`],
      logLevel: 'error',
    });
    try {
      const r = await cli(['health'], { FLOWSCALE_API_URL: lonely.url });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toMatch(/unreachable/);
      expect(r.stderr.trim()).toBe('error: no ComfyUI backend is reachable');
    } finally {
      await lonely.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('queue shows each backend in --json and as a table', async () => {
    const json = await cli(['queue', '--json']);
    expect(json.code).toBe(0);
    const items = JSON.parse(json.stdout);
    expect(items[0]).toHaveProperty('container');
    expect(Array.isArray(items[0].queue.queue_pending)).toBe(true);
    const human = await cli(['queue']);
    expect(human.stdout).toMatch(/BACKEND\s+RUNNING\s+PENDING/);
  });

  it('workflows lists the shipped workflows', async () => {
    const json = await cli(['workflows', '--json']);
    expect(json.code).toBe(0);
    const names = JSON.parse(json.stdout).map((w: { name: string }) => w.name);
    expect(names).toEqual(
      expect.arrayContaining(['text-echo', 'invert-image', 'solid-color', 'blur-image', 'slow-delay']),
    );
    const human = await cli(['workflows']);
    expect(human.stdout).toMatch(/blur-image\s+\S+\s+image_1:image value_2:integer/);
  });

  it('workflows show prints inputs and outputs with types', async () => {
    const human = await cli(['workflows', 'show', 'blur-image']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/image_1\s+image/);
    expect(human.stdout).toMatch(/value_2\s+integer\s+no\s+3/);
    expect(human.stdout).toMatch(/filename_prefix_4\s+image/);

    const json = await cli(['workflows', 'show', 'solid-color', '--json']);
    const w = JSON.parse(json.stdout);
    expect(w.name).toBe('solid-color');
    expect(w.input_schema).toEqual([
      expect.objectContaining({ name: 'default_value_1', type: 'integer', default: 128 }),
    ]);
  });
});

describe('usage', { timeout: E2E_TIMEOUT }, () => {
  it('shows the runs of today per project, as a table and in --json; a bad day is a usage error', async () => {
    const ran = await cli(['run', 'text-echo', '-i', 'default_value_1=usage', '--json']);
    expect(ran.code, ran.stderr).toBe(0);
    const json = await cli(['usage', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout);
    const today = new Date().toISOString().slice(0, 10);
    expect(report.to).toBe(today);
    const project = report.projects.find((p: { project: string }) => p.project === 'default');
    expect(project.totals.runs.created).toBeGreaterThanOrEqual(1);
    expect(project.totals.runs.completed).toBeGreaterThanOrEqual(1);

    const table = await cli(['usage', 'default', '--from', today], { NO_COLOR: '1' });
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/PROJECT\s+DAY\s+CREATED/);
    expect(table.stdout).toContain(`default  ${today}`);

    const bad = await cli(['usage', '--from', '7-12-2026']);
    expect(bad.code).toBe(2);
    expectOneLineError(bad.stderr);
    const other = await cli(['usage', 'no-such-project']);
    expect(other.code).toBe(4);
    expectOneLineError(other.stderr);
  });
});

describe('bad input gets one line and a stable exit code', { timeout: E2E_TIMEOUT }, () => {
  it('an unknown workflow suggests the closest name (exit 4)', async () => {
    const r = await cli(['workflows', 'show', 'blur-imag']);
    expect(r.code).toBe(4);
    expectOneLineError(r.stderr);
    expect(r.stderr).toContain('unknown workflow "blur-imag" (did you mean "blur-image"?)');
  });

  it('a wrong key names the env var it came from, never the key (exit 3)', async () => {
    const r = await cli(['workflows'], { FLOWSCALE_API_KEY: 'wrong-key-4c9a1e' });
    expect(r.code).toBe(3);
    expectOneLineError(r.stderr);
    expect(r.stderr).toContain('FLOWSCALE_API_KEY environment variable');
    expect(r.stderr).not.toContain('wrong-key-4c9a1e');
  });

  it('no key at all says how to set one (exit 3)', async () => {
    const r = await cli(['queue'], { FLOWSCALE_API_KEY: undefined });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('no API key: run "flowscale login", or set FLOWSCALE_API_KEY');
  });

  it('health without a key asks the public /healthz; with one, the backends', async () => {
    const bare = await cli(['health', '--json'], { FLOWSCALE_API_KEY: undefined });
    expect(bare.code, bare.stderr).toBe(0);
    expect(JSON.parse(bare.stdout)).toEqual({ url: server.url, ok: true, backends: null });
    const keyed = await cli(['health', '--json']);
    expect(keyed.code, keyed.stderr).toBe(0);
    expect(JSON.parse(keyed.stdout).backends.length).toBeGreaterThan(0);
  });

  it('an unreachable server names the URL and how to change it (exit 7)', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const r = await cli(['health'], { FLOWSCALE_API_URL: url });
    expect(r.code).toBe(7);
    expectOneLineError(r.stderr);
    expect(r.stderr).toContain(`cannot reach the FlowScale server at ${url}`);
    expect(r.stderr).toContain('FLOWSCALE_API_URL');
  });

  it('rate limiting (429) is explained in one line', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fs-cli-ratelimit-'));
    const limited = await startServer({
      port: 0,
      dataDir,
      apiKeys: ['test-key'],
      rateLimit: '1/min',
      logLevel: 'error',
    });
    try {
      const env = { FLOWSCALE_API_URL: limited.url };
      const results = [await cli(['workflows'], env), await cli(['workflows'], env)];
      const refused = results.find((r) => r.code !== 0);
      expect(refused, 'one of two calls within a 1/min limit must be refused').toBeDefined();
      expect(refused!.code).toBe(1);
      expectOneLineError(refused!.stderr);
      expect(refused!.stderr).toMatch(/^error: the server is rate limiting this key \(HTTP 429: /);
    } finally {
      await limited.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('--json errors are one JSON line on stderr', async () => {
    const r = await cli(['workflows', 'show', 'nope-nope', '--json']);
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(JSON.parse(r.stderr)).toEqual({ error: expect.stringContaining('nope-nope'), exit_code: 4 });
  });

  it('--json usage errors are JSON too', async () => {
    const r = await cli(['runs', '--page', 'x', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stderr)).toEqual({ error: expect.stringContaining('--page'), exit_code: 2 });
  });

  // The in-process program tests cover usage errors in detail; this checks the real process exit codes.
  it('usage errors exit 2, --version exits 0', async () => {
    const r = await cli(['runs', '--page', '0']);
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr);
    const v = await cli(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('configuration precedence', { timeout: E2E_TIMEOUT }, () => {
  it('reads the key and URL from ./.env when the environment has none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-cli-dotenv-'));
    try {
      writeFileSync(join(dir, '.env'), `FLOWSCALE_API_URL=${server.url}\nFLOWSCALE_API_KEY="test-key"\n`);
      const ok = await cli(
        ['health', '--json'],
        { FLOWSCALE_API_KEY: undefined, FLOWSCALE_API_URL: undefined },
        dir,
      );
      expect(ok.code).toBe(0);
      // The environment beats .env: a wrong env key must fail even though .env has the right one.
      const envWins = await cli(['health'], { FLOWSCALE_API_KEY: 'bad', FLOWSCALE_API_URL: undefined }, dir);
      expect(envWins.code).toBe(3);
      // And the flag beats the environment.
      const flagWins = await cli(['health', '--api-key', 'test-key'], { FLOWSCALE_API_KEY: 'bad' }, dir);
      expect(flagWins.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
