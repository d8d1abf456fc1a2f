import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '@flowscale/server';

export const REAL_KEY = 'sdk-test-key-0123456789';

export interface RealServer {
  url: string;
  key: string;
  close(): Promise<void>;
}

/** The real server with its embedded engine, on a free loopback port, with throwaway storage. */
export async function startRealServer(): Promise<RealServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fs-sdk-data-'));
  const server = await startServer({ port: 0, dataDir, apiKeys: [REAL_KEY], logLevel: 'error' });
  return {
    url: server.url,
    key: REAL_KEY,
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls until `check` holds; only a guard against hangs, never a speed assertion. */
export async function until(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
