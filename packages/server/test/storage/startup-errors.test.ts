import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startServer } from '../../src/index';
import { redactDatabaseUrl } from '../../src/storage/open-stores';
import { repoRoot } from '../support/child-server';
import { tempDir } from '../support/harness';
import { ADMIN_URL, type PasswordPostgres, startPasswordPostgres } from '../support/postgres';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const dataDir = tempDir('startup-errors');
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

/** A loopback port nothing listens on. */
const closedPort = (): Promise<number> =>
  new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

async function startError(databaseUrl: string): Promise<string> {
  const error = await startServer({ port: 0, dataDir, logLevel: 'error', databaseUrl }).then(
    async (server) => {
      await server.close();
      throw new Error(`the server started on ${databaseUrl}`);
    },
    (reason: Error) => reason,
  );
  return error.message;
}

const onShared = (user: string, database: string): string => {
  const url = new URL(ADMIN_URL);
  url.username = user;
  url.password = 'hunter2-secret';
  url.pathname = `/${database}`;
  return url.toString();
};

describe('a Postgres database that cannot be used stops the start, naming FLOWSCALE_DATABASE_URL and why', () => {
  let passwordPostgres: PasswordPostgres;
  beforeAll(async () => {
    passwordPostgres = await startPasswordPostgres();
  });
  afterAll(async () => {
    await passwordPostgres?.stop();
  });

  it('wrong password', async () => {
    const message = await startError(
      `postgres://postgres:wrong-password@127.0.0.1:${passwordPostgres.port}/postgres`,
    );
    expect(message).toContain('FLOWSCALE_DATABASE_URL');
    expect(message).toContain('password authentication failed for user "postgres"');
    expect(message).toContain('postgres://postgres:***@127.0.0.1');
    expect(message).not.toContain('wrong-password');
    // The same cluster with the right password works: the failure above was the password alone.
    const server = await startServer({
      port: 0,
      dataDir: tempDir('password-ok'),
      logLevel: 'error',
      databaseUrl: `postgres://postgres:${encodeURIComponent(passwordPostgres.password)}@127.0.0.1:${passwordPostgres.port}/postgres`,
    });
    await server.close();
  });

  it('unreachable port', async () => {
    const port = await closedPort();
    const message = await startError(`postgres://postgres:hunter2-secret@127.0.0.1:${port}/postgres`);
    expect(message).toMatch(
      /^FLOWSCALE_DATABASE_URL \(postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/postgres\): /,
    );
    expect(message).toContain('ECONNREFUSED');
    expect(message).not.toContain('hunter2');
  });

  it('missing database', async () => {
    const message = await startError(onShared('postgres', 'fs_no_such_database_7f3a'));
    expect(message).toContain('FLOWSCALE_DATABASE_URL');
    expect(message).toContain('database "fs_no_such_database_7f3a" does not exist');
  });

  it('unknown user', async () => {
    const message = await startError(onShared('fs_no_such_role_7f3a', 'postgres'));
    expect(message).toContain('FLOWSCALE_DATABASE_URL');
    expect(message).toContain('role "fs_no_such_role_7f3a" does not exist');
  });

  it('not a Postgres URL, or not a URL at all', async () => {
    const mysql = await startError('mysql://root:hunter2-secret@127.0.0.1/db');
    expect(mysql).toContain('FLOWSCALE_DATABASE_URL must be a postgres:// or postgresql:// URL');
    expect(mysql).toContain('mysql://root:***@127.0.0.1/db');
    const broken = await startError('postgres://root:hunter2-secret@127.0.0.1:notaport/db');
    expect(broken).toContain('FLOWSCALE_DATABASE_URL is not a valid URL');
    expect(`${mysql}${broken}`).not.toContain('hunter2');
  });
});

/** Runs bin.ts (what `npm start` runs) to its exit. */
function runBin(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(
    process.execPath,
    ['--conditions=flowscale-source', '--import', 'tsx', 'packages/server/src/bin.ts', ...args],
    { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout.resume();
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
}

describe('bin.ts with a database it cannot use', () => {
  it('prints one line naming FLOWSCALE_DATABASE_URL and the reason, no stack, and exits non-zero', async () => {
    const port = await closedPort();
    const { code, stderr } = await runBin(['--port', '0', '--data-dir', dataDir], {
      FLOWSCALE_DATABASE_URL: `postgres://postgres:hunter2-secret@127.0.0.1:${port}/postgres`,
    });
    expect(code).toBe(1);
    expect(stderr).toContain(
      `flowscale-server failed to start: FLOWSCALE_DATABASE_URL (postgres://postgres:***@127.0.0.1:${port}/postgres): `,
    );
    expect(stderr).toContain('ECONNREFUSED');
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stderr).not.toContain('hunter2');
  });

  it('--database-url with a non-Postgres URL: the same, through the flag', async () => {
    const { code, stderr } = await runBin(
      ['--port', '0', '--data-dir', dataDir, '--database-url', 'mysql://x/y'],
      {},
    );
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(
      'flowscale-server failed to start: FLOWSCALE_DATABASE_URL must be a postgres:// or postgresql:// URL, got mysql://x/y (leave it unset for SQLite in the data dir)',
    );
  });
});

describe('redactDatabaseUrl', () => {
  it('hides the password in the authority and in the query, and leaves a URL without one alone', () => {
    expect(redactDatabaseUrl('postgres://user:p%40ss:word@db.example:5432/app')).toBe(
      'postgres://user:***@db.example:5432/app',
    );
    expect(redactDatabaseUrl('postgresql://user@db/app?sslmode=require&password=secret&x=1')).toBe(
      'postgresql://user@db/app?sslmode=require&password=***&x=1',
    );
    expect(redactDatabaseUrl('postgres://db.example/app')).toBe('postgres://db.example/app');
    expect(redactDatabaseUrl('postgres://:only-password@db/app')).toBe('postgres://:***@db/app');
    // An unencoded @ in the password: everything up to the host's @ is hidden.
    expect(redactDatabaseUrl('postgres://user:p@ss@db/app')).toBe('postgres://user:***@db/app');
  });
});
