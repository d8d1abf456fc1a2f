// Shared parts of the bench/cluster-*.ts scripts: a fleet of engines and server replicas on one Postgres
// (or one replica on SQLite), a relay in front of each engine that timestamps every POST /prompt, and a
// read-only view of the runs table. Everything listens on and targets 127.0.0.1 only.
import fs from 'node:fs';
import path from 'node:path';
import { type PromptRelay, startPromptRelay } from './prompt-relay';

export { nowMs } from './prompt-relay';

import {
  type BenchDatabase,
  buildServerBundle,
  cpuMsOf,
  createBenchDatabase,
  ENGINE_BIN,
  SERVER_BIN,
  type SpawnedService,
  spawnBundled,
  spawnService,
  tempDir,
} from './server-support';

export const KEY = 'bench-key-0123456789abcdef';
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---- engines ----

export interface Engines {
  engines: SpawnedService[];
  dirs: string[];
  /** One per engine when started with relays, else empty. */
  relays: PromptRelay[];
  /** What the servers are given as --comfyui-url: the relays when there are any, else the engines. */
  backendUrls: string[];
  /** Output files the engines wrote whose name starts with `prefix` (one per execution of a save node). */
  outputFiles(prefix: string): number;
  stop(): Promise<void>;
}

export async function startEngines(count: number, withRelays: boolean): Promise<Engines> {
  const dirs = Array.from({ length: count }, (_, index) => tempDir(`engine${index}`));
  const engines = await Promise.all(
    dirs.map((dir) => spawnService(ENGINE_BIN, ['--port', '0', '--data-dir', dir, '--log-level', 'error'])),
  );
  const relays = withRelays ? await Promise.all(engines.map((engine) => startPromptRelay(engine.url))) : [];
  return {
    engines,
    dirs,
    relays,
    backendUrls: withRelays ? relays.map((relay) => relay.url) : engines.map((engine) => engine.url),
    outputFiles: (prefix) =>
      dirs.reduce((sum, dir) => {
        const output = path.join(dir, 'output');
        if (!fs.existsSync(output)) return sum;
        const files = fs.readdirSync(output, { recursive: true, encoding: 'utf8' });
        return sum + files.filter((file) => path.basename(file).startsWith(prefix)).length;
      }, 0),
    async stop() {
      await Promise.all(relays.map((relay) => relay.close()));
      await Promise.all(engines.map((engine) => engine.stop()));
      for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- server replicas ----

export interface FleetOptions {
  label: string;
  engines: Engines;
  replicas: number;
  database: 'postgres' | 'sqlite';
  /** Added to each replica's environment (e.g. FLOWSCALE_LEASE_TTL_MS). */
  env?: Record<string, string>;
  logLevel?: string;
  /** Preload bench/statement-counter.mjs into each replica (SIGUSR2 prints its counts). */
  countStatements?: boolean;
}

export interface Fleet {
  replicas: SpawnedService[];
  live(): SpawnedService[];
  startReplica(): Promise<SpawnedService>;
  database: BenchDatabase | undefined;
  dataDir: string;
  runs: RunsTable;
  stop(): Promise<void>;
}

// The server runs from a release-style bundle (no tsx loader in the figures); `--dev` runs its sources.
const dev = process.argv.includes('--dev');
let bundle: Promise<string> | undefined;
process.once('exit', () => {
  if (bundle)
    fs.rmSync(path.join(process.cwd(), 'bench', `.server-bundle-${process.pid}`), {
      recursive: true,
      force: true,
    });
});

/** Replicas sharing one data dir (local blobs) and, on Postgres, one fresh database. */
export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const database = options.database === 'postgres' ? await createBenchDatabase(options.label) : undefined;
  const dataDir = tempDir(`${options.label}-data`);
  const args = ['--port', '0', '--data-dir', dataDir, '--api-key', KEY];
  args.push('--workflows-dir', 'packages/server/workflows', '--log-level', options.logLevel ?? 'warn');
  for (const url of options.engines.backendUrls) args.push('--comfyui-url', url);
  if (database) args.push('--database-url', database.url);
  const spawnOptions = {
    env: options.env ?? {},
    nodeArgs: options.countStatements ? ['--import', path.resolve('bench/statement-counter.mjs')] : [],
  };
  const replicas: SpawnedService[] = [];
  const startReplica = async (): Promise<SpawnedService> => {
    bundle ??= dev ? Promise.resolve('') : buildServerBundle();
    const file = await bundle;
    const replica = dev
      ? await spawnService(SERVER_BIN, args, spawnOptions)
      : await spawnBundled(file, args, spawnOptions);
    replicas.push(replica);
    return replica;
  };
  // One at a time: the first migrates the database, the others find it in place.
  for (let index = 0; index < options.replicas; index++) await startReplica();
  const runs = database ? await postgresRuns(database.url) : await sqliteRuns(dataDir);
  return {
    replicas,
    live: () =>
      replicas.filter((replica) => replica.child.exitCode === null && replica.child.signalCode === null),
    startReplica,
    database,
    dataDir,
    runs,
    async stop() {
      await runs.close();
      await Promise.all(replicas.map((replica) => replica.stop()));
      await database?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// ---- reading the runs table beside the servers ----

export interface RunRow {
  status: string;
  promptId: string;
  backendId: string | null;
  createdAt: number;
  completedAt: number | null;
}

/** The runs table, read straight from the database (no server request, so no server CPU and no cache). */
export interface RunsTable {
  get(runId: string): Promise<RunRow | undefined>;
  /** Runs in a terminal state, and the latest completed_at among them. */
  finished(): Promise<{ completed: number; failed: number; lastCompletedAt: number }>;
  /** Any read-only SQL (Postgres: $1 parameters; SQLite: ?). */
  query<T>(text: string, values?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

const FINISHED_SQL = `SELECT
  sum(CASE WHEN status = 'completed' THEN 1 ELSE 0 END) AS completed,
  sum(CASE WHEN status IN ('failed', 'cancelled') THEN 1 ELSE 0 END) AS failed,
  max(completed_at) AS last FROM runs`;

const toMs = (value: unknown): number | null =>
  value === null || value === undefined
    ? null
    : value instanceof Date
      ? value.getTime()
      : Date.parse(String(value));

const toRow = (row: Record<string, unknown> | undefined): RunRow | undefined =>
  row && {
    status: String(row.status),
    promptId: String(row.prompt_id),
    backendId: (row.backend_id as string | null) ?? null,
    createdAt: toMs(row.created_at) ?? Number.NaN,
    completedAt: toMs(row.completed_at),
  };

const RUN_SQL = 'SELECT status, prompt_id, backend_id, created_at, completed_at FROM runs WHERE id = ';

async function postgresRuns(url: string): Promise<RunsTable> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: url, max: 2, application_name: 'fs-bench-reader' });
  const query = async <T>(text: string, values: unknown[] = []): Promise<T[]> =>
    (await pool.query(text, values)).rows as T[];
  return {
    get: async (runId) => toRow((await query<Record<string, unknown>>(`${RUN_SQL}$1`, [runId]))[0]),
    async finished() {
      const [row] = await query<Record<string, unknown>>(FINISHED_SQL);
      return {
        completed: Number(row?.completed ?? 0),
        failed: Number(row?.failed ?? 0),
        lastCompletedAt: toMs(row?.last) ?? Number.NaN,
      };
    },
    query,
    close: () => pool.end(),
  };
}

async function sqliteRuns(dataDir: string): Promise<RunsTable> {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(path.join(dataDir, 'flowscale.db'), { fileMustExist: true });
  const query = async <T>(text: string, values: unknown[] = []): Promise<T[]> =>
    db.prepare(text).all(...values) as T[];
  return {
    get: async (runId) => toRow((await query<Record<string, unknown>>(`${RUN_SQL}?`, [runId]))[0]),
    async finished() {
      const [row] = await query<Record<string, unknown>>(FINISHED_SQL);
      return {
        completed: Number(row?.completed ?? 0),
        failed: Number(row?.failed ?? 0),
        lastCompletedAt: toMs(row?.last) ?? Number.NaN,
      };
    },
    query,
    close: async () => {
      db.close();
    },
  };
}

// ---- statements counted in a replica (bench/statement-counter.mjs) ----

export interface StatementCounts {
  total: number;
  byStatement: Record<string, number>;
}

/** Asks a replica started with countStatements for its counts so far. */
export async function statementsOf(replica: SpawnedService): Promise<StatementCounts> {
  const before = replica.output().length;
  replica.child.kill('SIGUSR2');
  for (let waited = 0; waited < 5000; waited += 5) {
    const line = /FS_STATEMENTS (\{.*\})\n/.exec(replica.output().slice(before));
    if (line?.[1]) return JSON.parse(line[1]) as StatementCounts;
    await sleep(5);
  }
  throw new Error('the replica did not report its statement counts (started without countStatements?)');
}

export function statementsBetween(before: StatementCounts, after: StatementCounts): StatementCounts {
  const byStatement: Record<string, number> = {};
  for (const [key, count] of Object.entries(after.byStatement)) {
    const delta = count - (before.byStatement[key] ?? 0);
    if (delta > 0) byStatement[key] = delta;
  }
  return { total: after.total - before.total, byStatement };
}

// ---- where the CPU goes ----

export interface CpuSnapshot {
  byPart: Record<'replicas' | 'postgres' | 'engines', Map<number, number>>;
  clientMs: number;
}

const cpuOrZero = (pid: number | undefined): number => {
  try {
    return pid === undefined ? 0 : cpuMsOf(pid);
  } catch {
    return 0; // gone meanwhile
  }
};

/** CPU used so far by the replicas, their Postgres backends (this database's), the engines and this process. */
export async function cpuSnapshot(fleet: Fleet, engines: Engines): Promise<CpuSnapshot> {
  const pids = (services: SpawnedService[]) =>
    new Map(services.map((service) => [service.child.pid ?? -1, cpuOrZero(service.child.pid)]));
  const backends = fleet.database
    ? await fleet.runs.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [
        fleet.database.name,
      ])
    : [];
  const usage = process.cpuUsage();
  return {
    byPart: {
      replicas: pids(fleet.replicas),
      postgres: new Map(backends.map(({ pid }) => [pid, cpuOrZero(pid)])),
      engines: pids(engines.engines),
    },
    clientMs: (usage.user + usage.system) / 1000,
  };
}

/** CPU ms each part used between two snapshots (a process seen only in `after` counts from its start). */
export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot): Record<string, number> {
  const used: Record<string, number> = { client: after.clientMs - before.clientMs };
  for (const [part, pids] of Object.entries(after.byPart)) {
    let sum = 0;
    for (const [pid, ms] of pids)
      sum += ms - (before.byPart[part as keyof CpuSnapshot['byPart']].get(pid) ?? 0);
    used[part] = sum;
  }
  return used;
}

/** How the backends' leases are spread, e.g. "2 backends on 1 of 3 replicas" (Postgres fleets only). */
export async function leaseSpread(fleet: Fleet): Promise<string> {
  if (!fleet.database) return 'no leases (SQLite)';
  const rows = await fleet.runs.query<{ owner: string }>(
    "SELECT owner FROM backend_leases WHERE expires_at > now() AND owner <> ''",
  );
  const owners = new Set(rows.map((row) => row.owner));
  return `${rows.length} backends leased by ${owners.size} of ${fleet.live().length} replicas`;
}
