import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServerOptions, startServer } from '@flowscale/server';

export const TEST_KEY = 'test-key';

/**
 * Per-test limit for the end-to-end suites. Only there to stop a hang: tests spawn several CLI processes
 * each, and the machine is shared, so this is far above their usual few seconds.
 */
export const E2E_TIMEOUT = 120_000;

export interface TestServer {
  url: string;
  /** A scratch directory, used as the CLI's cwd. */
  work: string;
  /** Env for the CLI child: the server URL and the admin key. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** The real server with its embedded engine, on a free port, with throwaway storage. */
export async function startTestServer(options: ServerOptions = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fs-cli-data-'));
  const work = mkdtempSync(join(tmpdir(), 'fs-cli-work-'));
  const server = await startServer({ port: 0, dataDir, apiKeys: [TEST_KEY], logLevel: 'error', ...options });
  return {
    url: server.url,
    work,
    env: { FLOWSCALE_API_URL: server.url, FLOWSCALE_API_KEY: TEST_KEY },
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(work, { recursive: true, force: true });
    },
  };
}
