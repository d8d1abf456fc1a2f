import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

// Real PostgreSQL for tests: every test file (or test server) gets a database of its own, dropped after.
// The server at FLOWSCALE_TEST_POSTGRES_URL (default: the local development one, trust auth) must be up;
// when it is not, the test fails and says how to start it. It never skips.

export const ADMIN_URL =
  process.env.FLOWSCALE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const START_HINT = 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start';

export interface TestDatabase {
  name: string;
  url: string;
  /** Drops the database, closing whatever connections are left; safe to call twice. */
  drop(): Promise<void>;
}

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (error) {
    const reason = (error as Error).message || (error as { code?: string }).code || String(error);
    throw new Error(`PostgreSQL is not reachable at ${ADMIN_URL} (${reason}). Start it with: ${START_HINT}`);
  }
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const urlFor = (database: string): string => {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
};

export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const name = `fs_${label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 30)}_${randomBytes(5).toString('hex')}`;
  await withAdmin((client) => client.query(`CREATE DATABASE "${name}"`));
  let dropped: Promise<void> | undefined;
  return {
    name,
    url: urlFor(name),
    drop: () => {
      dropped ??= withAdmin(async (client) => {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      });
      return dropped;
    },
  };
}

/** Runs one statement against a test database (to look under the stores, or to break things on purpose). */
export async function queryDatabase<R extends pg.QueryResultRow>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

const run = promisify(execFile);

export interface PasswordPostgres {
  port: number;
  password: string;
  stop(): Promise<void>;
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const version = fs.existsSync(root) ? fs.readdirSync(root).sort().at(-1) : undefined;
  if (!version)
    throw new Error(`No PostgreSQL binaries under ${root} (initdb, pg_ctl) to start a cluster with`);
  return path.join(root, version, 'bin');
}

/**
 * A second, throwaway PostgreSQL cluster that demands a password (scram-sha-256): the shared one trusts
 * every local connection, so a wrong password could not fail against it. Real server, ~1 s to start.
 */
export async function startPasswordPostgres(): Promise<PasswordPostgres> {
  const bin = postgresBinDir();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fs-pg-password-'));
  const password = `pw-${randomBytes(8).toString('hex')}`;
  fs.writeFileSync(path.join(dir, 'pwfile'), password);
  // Postgres refuses to run as root; as root, run it as the postgres user.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const user = await run('id', ['-u', 'postgres']);
    const group = await run('id', ['-g', 'postgres']);
    const uid = Number(user.stdout.trim());
    const gid = Number(group.stdout.trim());
    fs.chownSync(dir, uid, gid);
    fs.chownSync(path.join(dir, 'pwfile'), uid, gid);
  }
  const exec = (command: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', command, ...args]) : run(command, args);
  const data = path.join(dir, 'data');
  await exec(path.join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=scram-sha-256',
    `--pwfile=${path.join(dir, 'pwfile')}`,
    '-N',
  ]);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const pgCtl = path.join(bin, 'pg_ctl');
  await exec(pgCtl, ['-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', 'start']);
  return {
    port,
    password,
    stop: async () => {
      await exec(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
