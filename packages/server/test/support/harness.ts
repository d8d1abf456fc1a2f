import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type RunningEngine, startEngine } from '@flowscale/engine';
import { FlowscaleAdminAPI } from 'flowscale/admin';
import { WebSocket } from 'flowscale/node';
import { type ServerOptions, startServer } from '../../src/index';
import { createTestDatabase } from './postgres';

export const TEST_KEY = 'test-admin-key-0123456789';

export const tempDir = (label: string): string =>
  fs.mkdtempSync(path.join(os.tmpdir(), `fs-server-${label}-`));

export interface TestServer {
  url: string;
  key: string;
  dataDir: string;
  /** The server's Postgres database, when it runs on one. */
  databaseUrl: string | undefined;
  /** Where uploads are hashed before they are stored (always local, in either storage). */
  uploadTempDir: string;
  /** The content hashes of the stored input files, in the data dir or the S3 bucket. */
  storedInputs(): Promise<string[]>;
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

export type TestDatabaseKind = 'sqlite' | 'postgres';

/** The database test servers use unless told: FLOWSCALE_TEST_DATABASE=postgres runs them all on Postgres. */
export const testDatabase = (): TestDatabaseKind =>
  process.env.FLOWSCALE_TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';

/** Where test servers keep files unless told: FLOWSCALE_TEST_STORAGE=s3 puts them all in S3 (s3rver). */
export const testStorage = (): 'local' | 's3' =>
  process.env.FLOWSCALE_TEST_STORAGE === 's3' ? 's3' : 'local';

export interface TestServerOptions extends ServerOptions {
  /** On Postgres, the server gets a fresh database of its own, dropped when it closes. */
  database?: TestDatabaseKind;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const { database = testDatabase(), ...serverOptions } = options;
  const dataDir = options.dataDir ?? tempDir('data');
  const db =
    database === 'postgres' && serverOptions.databaseUrl === undefined
      ? await createTestDatabase('server')
      : undefined;
  // FLOWSCALE_TEST_STORAGE=s3: files go to a bucket of a real S3 protocol server of this server's own.
  const s3 =
    testStorage() === 's3' && serverOptions.s3 === undefined
      ? await (await import('./s3')).startS3()
      : undefined;
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({
      port: 0,
      dataDir,
      apiKeys: [TEST_KEY],
      logLevel: 'error',
      reconcileIntervalMs: 250,
      ...(db ? { databaseUrl: db.url } : {}),
      ...(s3 ? { s3: s3.options() } : {}),
      ...serverOptions,
    });
  } catch (error) {
    await db?.drop();
    await s3?.close();
    throw error;
  }
  return {
    url: server.url,
    key: TEST_KEY,
    dataDir,
    databaseUrl: serverOptions.databaseUrl ?? db?.url,
    uploadTempDir: path.join(dataDir, ...(s3 || serverOptions.s3 ? ['tmp'] : ['inputs', 'tmp'])),
    async storedInputs() {
      if (s3) return (await s3.keys()).filter((key) => key.startsWith('inputs/')).map((key) => key.slice(7));
      const dir = path.join(dataDir, 'inputs');
      return fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => name !== 'tmp') : [];
    },
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
      await db?.drop();
      await s3?.close();
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
