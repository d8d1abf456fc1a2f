import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const TEST_KEY = 'test-key';

/**
 * Per-test limit for the end-to-end suites. Only there to stop a hang: tests spawn several CLI processes
 * each, and the machine is shared, so this is far above their usual few seconds.
 */
export const E2E_TIMEOUT = 120_000;

const MAIN = fileURLToPath(new URL('./server-main.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface TestServer {
  url: string;
  /** A scratch directory, used as the CLI's cwd. */
  work: string;
  /** Env for the CLI child: the server URL and the admin key. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * The real server with its embedded engine (startServer with port 0, a temp data dir and the test key),
 * in its own process.
 */
export async function startTestServer(): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fs-cli-data-'));
  const work = mkdtempSync(join(tmpdir(), 'fs-cli-work-'));
  const child = spawn(process.execPath, ['--conditions=source', '--import', TSX, MAIN, dataDir, TEST_KEY], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let log = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 60 s:\n${log}`)), 60_000);
    child.stderr!.on('data', (d) => {
      log += d;
    });
    child.stdout!.on('data', (d) => {
      log += d;
      const m = /READY (\{.*\})/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(JSON.parse(m[1]!).url);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before it was ready:\n${log}`));
    });
  });
  return {
    url,
    work,
    env: { FLOWSCALE_API_URL: url, FLOWSCALE_API_KEY: TEST_KEY },
    async close() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(work, { recursive: true, force: true });
    },
  };
}
