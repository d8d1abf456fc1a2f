import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { repoRoot } from '../support/child-server';
import { TEST_KEY, tempDir } from '../support/harness';

vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 });

const base = tempDir('startup-bin');
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

interface Exit {
  code: number | null;
  stderr: string;
}

/** Runs bin.ts as `npm start` would, to its exit; `uid` runs it as another user (root ignores modes). */
function runBin(args: string[], env: NodeJS.ProcessEnv = {}, uid?: number): Promise<Exit> {
  const child = spawn(
    process.execPath,
    ['--conditions=flowscale-source', '--import', 'tsx', 'packages/server/src/bin.ts', ...args],
    {
      cwd: repoRoot,
      env: { ...process.env, FLOWSCALE_LOG_LEVEL: 'error', FLOWSCALE_API_KEY: TEST_KEY, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(uid !== undefined ? { uid, gid: uid } : {}),
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout.resume();
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    }),
  );
}

/** One line, the prefix and then the message: no stack frames, nothing else. */
function expectOneLine(exit: Exit, code: number, message: string): void {
  expect(exit.code, exit.stderr).toBe(code);
  const lines = exit.stderr.trim().split('\n');
  expect(lines, exit.stderr).toHaveLength(1);
  expect(lines[0]).toBe(`flowscale-server failed to start: ${message}`);
}

describe('start-up errors name the setting, the value and the reason, in one line', () => {
  it('a port in use: exit 1', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as net.AddressInfo;
    try {
      const exit = await runBin(['--port', String(port), '--data-dir', path.join(base, 'port')]);
      expectOneLine(
        exit,
        1,
        `FLOWSCALE_PORT (--port)=${port}: port ${port} on 127.0.0.1 is already in use by another process`,
      );
    } finally {
      holder.close();
    }
  });

  it('--comfyui-url notaurl: exit 1, before anything connects', async () => {
    const exit = await runBin([
      '--port',
      '0',
      '--data-dir',
      path.join(base, 'url'),
      '--comfyui-url',
      'notaurl',
    ]);
    expectOneLine(
      exit,
      1,
      'FLOWSCALE_COMFYUI_URLS (--comfyui-url)="notaurl": not a URL (expected e.g. http://127.0.0.1:8188)',
    );
  });

  it('a backend URL of another scheme, from the environment', async () => {
    const exit = await runBin(['--port', '0', '--data-dir', path.join(base, 'ftp')], {
      FLOWSCALE_COMFYUI_URLS: 'http://127.0.0.1:8188,ftp://example.com',
    });
    expectOneLine(
      exit,
      1,
      'FLOWSCALE_COMFYUI_URLS (--comfyui-url)="ftp://example.com": must be an http:// or https:// URL, not ftp:',
    );
  });

  it('a data dir that is a file', async () => {
    const file = path.join(base, 'a-file');
    fs.writeFileSync(file, 'x');
    const exit = await runBin(['--port', '0', '--data-dir', file]);
    expectOneLine(
      exit,
      1,
      `FLOWSCALE_DATA_DIR (--data-dir)=${JSON.stringify(file)}: is a file, not a directory`,
    );
  });

  it('a data dir under a file cannot be created', async () => {
    const dir = path.join(base, 'a-file-2', 'data');
    fs.writeFileSync(path.dirname(dir), 'x');
    const exit = await runBin(['--port', '0', '--data-dir', dir]);
    expectOneLine(
      exit,
      1,
      `FLOWSCALE_DATA_DIR (--data-dir)=${JSON.stringify(dir)}: a parent of it is a file, not a directory`,
    );
  });

  it.runIf(process.getuid?.() === 0)(
    'an unwritable data dir, and a missing one that cannot be made',
    async () => {
      // As an unprivileged user (root writes anywhere): a read-only dir, and a dir to create inside it.
      const nobody = 65534;
      const readOnly = fs.mkdtempSync(path.join(os.tmpdir(), 'startup-ro-'));
      fs.chmodSync(readOnly, 0o555);
      try {
        const exit = await runBin(['--port', '0', '--data-dir', readOnly], {}, nobody);
        expectOneLine(
          exit,
          1,
          `FLOWSCALE_DATA_DIR (--data-dir)=${JSON.stringify(readOnly)}: is not writable: permission denied (EACCES)`,
        );
        const missing = path.join(readOnly, 'data');
        const created = await runBin(['--port', '0', '--data-dir', missing], {}, nobody);
        expectOneLine(
          created,
          1,
          `FLOWSCALE_DATA_DIR (--data-dir)=${JSON.stringify(missing)}: does not exist and cannot be created: permission denied (EACCES)`,
        );
      } finally {
        fs.rmSync(readOnly, { recursive: true, force: true });
      }
    },
  );

  it('a bad number in the environment names its variable', async () => {
    const exit = await runBin(['--data-dir', path.join(base, 'n')], { FLOWSCALE_PORT: 'eighty' });
    expectOneLine(exit, 1, 'FLOWSCALE_PORT (--port)="eighty": not a number');
  });

  it('FLOWSCALE_LOG_LEVEL=debug adds the stack trace', async () => {
    const file = path.join(base, 'a-file-3');
    fs.writeFileSync(file, 'x');
    const exit = await runBin(['--port', '0', '--data-dir', file], { FLOWSCALE_LOG_LEVEL: 'debug' });
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('is a file, not a directory');
    expect(exit.stderr).toMatch(/\n\s+at /);
  });

  it('usage mistakes exit 2 and show the usage', async () => {
    const unknown = await runBin(['--no-such-flag']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--no-such-flag'");
    expect(unknown.stderr).toContain('flowscale-server [options]');
    const badPort = await runBin(['--port', 'x']);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('--port "x": not a port number (0–65535)');
  });
});
