import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { repoRoot } from '../support/child-server';
import { formOf, tempDir, waitFor } from '../support/harness';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

const dirs: string[] = [];
const running = new Set<ChildProcess>();
afterAll(async () => {
  for (const child of running) child.kill('SIGKILL');
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

const dir = (label: string): string => {
  const made = tempDir(label);
  dirs.push(made);
  return made;
};

const tsx = pathToFileURL(path.join(repoRoot, 'node_modules/tsx/dist/loader.mjs')).href;
const bin = path.join(repoRoot, 'packages/server/src/bin.ts');

interface Started {
  child: ChildProcess;
  url: string;
  stdout(): string;
  stderr(): string;
}

/** Starts bin.ts in `cwd` with stdout and stderr kept apart (pipes, so not a TTY). */
async function start(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Started> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('FLOWSCALE_')),
  );
  const child = spawn(process.execPath, ['--conditions=flowscale-source', '--import', tsx, bin, ...args], {
    cwd,
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const url = await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${stderr}`);
      return /listening on (http:\/\/\S+)/.exec(stderr)?.[1];
    },
    Boolean,
    60_000,
  );
  return { child, url: url as string, stdout: () => stdout, stderr: () => stderr };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('logs', () => {
  it('JSON with ISO times on a pipe, banner on stderr, request ids unique beside the embedded engine', async () => {
    const key = 'log-test-key-0123456789';
    const server = await start(dir('logs-cwd'), ['--port', '0', '--data-dir', dir('logs-data')], {
      FLOWSCALE_API_KEY: key,
      FLOWSCALE_LOG_LEVEL: 'debug',
    });
    const submitted = await fetch(`${server.url}/api/v1/runs?workflow_id=text-echo`, {
      method: 'POST',
      headers: { 'x-api-key': key },
      body: formOf({}),
    });
    expect(submitted.status).toBe(201);
    const runId = ((await submitted.json()) as { data: { run_id: string } }).data.run_id;
    await waitFor(
      async () =>
        (
          (await (
            await fetch(`${server.url}/api/v1/runs/${runId}`, { headers: { 'x-api-key': key } })
          ).json()) as {
            data: { status: string };
          }
        ).data.status,
      (status) => status === 'completed',
      60_000,
    );
    await waitFor(
      async () => server.stdout().split('\n').length,
      (count) => count > 5,
    );
    expect(server.stderr()).toContain('FlowScale server listening on');
    expect(server.stdout()).not.toContain('FlowScale server listening on');
    const lines = server
      .stdout()
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as { time: string; reqId?: string; msg: string });
    // The server's lines (its own requests, its start line) carry ISO times. The embedded engine logs with
    // its own logger (packages/engine), which this server does not configure.
    const own = lines.filter(
      (line) => UUID.test(String(line.reqId)) || line.msg === 'FlowScale server listening',
    );
    expect(own.length).toBeGreaterThan(2);
    for (const line of own) expect(line.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // Each request id names one request: one "incoming request" line per id, server and engine together.
    const incoming = lines.filter((line) => line.msg === 'incoming request').map((line) => line.reqId);
    expect(incoming.length).toBeGreaterThan(2);
    expect(new Set(incoming).size).toBe(incoming.length);
    // The server's own ids are UUIDs; the engine (which the server called) logged requests too.
    expect(incoming.filter((id) => UUID.test(String(id))).length).toBeGreaterThanOrEqual(2);
    expect(incoming.some((id) => !UUID.test(String(id)))).toBe(true);
  });

  it('a .env in the working directory is read; the environment wins over it', async () => {
    const cwd = dir('dotenv');
    fs.writeFileSync(
      path.join(cwd, '.env'),
      'FLOWSCALE_API_KEY=dotenv-key-0123456789\nFLOWSCALE_LOG_LEVEL=error\nFLOWSCALE_PUBLIC_URL=http://from-dotenv.example\n',
    );
    const server = await start(cwd, ['--port', '0', '--data-dir', dir('dotenv-data')], {
      FLOWSCALE_PUBLIC_URL: 'http://from-env.example',
    });
    const ok = await fetch(`${server.url}/api/v1/comfy/workflows`, {
      headers: { 'x-api-key': 'dotenv-key-0123456789' },
    });
    expect(ok.status).toBe(200);
    const spec = (await (await fetch(`${server.url}/docs/json`)).json()) as {
      servers?: Array<{ url: string }>;
    };
    expect(spec.servers?.[0]?.url).toBe('http://from-env.example');
  });

  it('pretty on a terminal', async () => {
    // `script` gives the server a pseudo-terminal for stdout.
    const data = dir('tty-data');
    const command = [process.execPath, '--conditions=flowscale-source', '--import', tsx, bin]
      .concat(['--port', '0', '--data-dir', data, '--api-key', 'tty-key-0123456789'])
      .map((part) => `'${part}'`)
      .join(' ');
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith('FLOWSCALE_')),
    );
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      cwd: dir('tty-cwd'),
      env: clean,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    await waitFor(
      async () => output,
      (text) => text.includes('FlowScale server listening'),
      60_000,
    );
    child.kill('SIGKILL');
    const clear = stripVTControlCharacters(output);
    expect(clear).toMatch(/INFO.*FlowScale server listening/);
    expect(clear).not.toContain('{"level"');
  });
});
