import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine } from '../src/index';
import { type PromptReply, postJson, WsClient } from './helpers';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'engine-life-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const handles = () =>
  process
    .getActiveResourcesInfo()
    .filter((r) => r === 'TCPServerWrap' || r === 'TCPSocketWrap' || r === 'Timeout').length;

describe('startEngine / close', () => {
  it('prepares the data dir: input/example.png created, temp/ wiped, output/ kept', async () => {
    const dataDir = path.join(root, 'prep');
    await mkdir(path.join(dataDir, 'temp'), { recursive: true });
    await writeFile(path.join(dataDir, 'temp', 'stale.png'), 'x');
    const engine = await startEngine({ dataDir, logLevel: 'silent' });
    expect(engine.url).toBe(`http://127.0.0.1:${engine.port}`);
    expect(engine.dataDir).toBe(dataDir);
    expect((await stat(path.join(dataDir, 'input', 'example.png'))).size).toBeGreaterThan(0);
    expect(await readdir(path.join(dataDir, 'temp'))).toEqual([]);
    expect((await stat(path.join(dataDir, 'output'))).isDirectory()).toBe(true);
    await engine.close();
  });

  it('closes cleanly while a prompt runs: sockets closed, port released, no timers or servers left', async () => {
    const before = handles();
    const engine = await startEngine({ dataDir: path.join(root, 'close'), logLevel: 'silent' });
    const ws = await WsClient.connect(engine.url, 'c');
    const closed = new Promise((resolve) => ws.socket.once('close', resolve));
    const delay = {
      '1': { class_type: 'FSDelay', inputs: { seconds: 60, value: 'x' } },
      '2': { class_type: 'PreviewAny', inputs: { source: ['1', 0] } },
    };
    const { body } = await postJson<PromptReply>(`${engine.url}/prompt`, { prompt: delay, client_id: 'c' });
    await ws.waitFor((m) => m.type === 'progress' && m.data.prompt_id === body.prompt_id);
    await engine.close();
    await closed;
    await expect(fetch(`${engine.url}/queue`)).rejects.toThrow();
    await engine.close(); // idempotent
    // Client-side sockets finish closing asynchronously; give them a moment, then compare.
    for (let i = 0; i < 40 && handles() > before; i++) await new Promise((r) => setTimeout(r, 50));
    expect(handles()).toBeLessThanOrEqual(before);
  });
});

describe('flowscale-engine binary', () => {
  const bin = path.join(import.meta.dirname, '../src/bin.ts');
  const run = (args: string[]) =>
    spawn(process.execPath, ['--conditions=flowscale-source', '--import', 'tsx', bin, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });

  it('starts with --port/--host/--data-dir, serves, and exits 0 on SIGTERM', async () => {
    const child = run([
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--data-dir',
      path.join(root, 'bin'),
      '--log-level',
      'warn',
    ]);
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        const match = /listening on (http:\/\/\S+)/.exec(String(chunk));
        if (match?.[1]) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
    });
    const stats = (await (await fetch(`${url}/system_stats`)).json()) as { system: { argv: string[] } };
    expect(stats.system.argv).toContain('--data-dir');
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('refuses a bad --port with a clear message and exit code 2', async () => {
    const child = run(['--port', 'abc']);
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += String(c);
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('Invalid --port "abc"');
  });
});
