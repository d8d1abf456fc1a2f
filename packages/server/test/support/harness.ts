import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type RunningEngine, startEngine } from '@flowscale/engine';
import { FlowscaleAdminAPI } from 'flowscale/admin';
import { WebSocket } from 'flowscale/node';
import { type ServerOptions, startServer } from '../../src/index';

export const TEST_KEY = 'test-admin-key-0123456789';

export const tempDir = (label: string): string =>
  fs.mkdtempSync(path.join(os.tmpdir(), `fs-server-${label}-`));

export interface TestServer {
  url: string;
  key: string;
  dataDir: string;
  api: FlowscaleAdminAPI;
  /** fetch against the server with the admin key (pass `key: null` to send none). */
  request(pathname: string, init?: RequestInit & { key?: string | null }): Promise<Response>;
  close(): Promise<void>;
}

export function sdkClient(url: string, key: string): FlowscaleAdminAPI {
  return new FlowscaleAdminAPI({
    apiKey: key,
    baseUrl: url,
    enableLogging: false,
    retries: 0,
    webSocketImpl: WebSocket,
  });
}

export async function startTestServer(options: ServerOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? tempDir('data');
  const server = await startServer({
    port: 0,
    dataDir,
    apiKeys: [TEST_KEY],
    logLevel: 'error',
    reconcileIntervalMs: 250,
    ...options,
  });
  return {
    url: server.url,
    key: TEST_KEY,
    dataDir,
    api: sdkClient(server.url, TEST_KEY),
    request(pathname, init = {}) {
      const { key = TEST_KEY, headers, ...rest } = init;
      return fetch(`${server.url}${pathname}`, {
        ...rest,
        headers: { ...(key ? { 'x-api-key': key } : {}), ...(headers as Record<string, string> | undefined) },
      });
    },
    close: async () => {
      await server.close();
      // Only a directory this helper made is removed; a caller's own data dir is left to the caller.
      if (!options.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function startTestEngine(): Promise<RunningEngine> {
  const dataDir = tempDir('engine');
  const engine = await startEngine({ port: 0, dataDir, logLevel: 'error' });
  return {
    ...engine,
    close: async () => {
      await engine.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const formOf = (fields: Record<string, string | Blob>): FormData => {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  return form;
};

/** Polls until the predicate holds; only a guard against hangs, never a speed assertion. */
export async function waitFor<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not met in ${timeoutMs} ms; last value ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
