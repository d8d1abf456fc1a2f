import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { openStores } from '../../src/storage/open-stores';
import type { Run } from '../../src/storage/records';
import type { Stores } from '../../src/storage/stores';
import { tempDir } from '../support/harness';
import { createTestDatabase, queryDatabase, type TestDatabase } from '../support/postgres';

export type DatabaseKind = 'sqlite' | 'postgres';
export const DATABASES: DatabaseKind[] = ['sqlite', 'postgres'];

const TABLES = [
  'runs',
  'run_events',
  'outputs',
  'workflows',
  'api_keys',
  'idempotency_keys',
  'input_files',
  'settings',
  'webhook_endpoints',
  'webhook_signing_secrets',
  'webhook_deliveries',
  'webhook_attempts',
  'webhook_outbox',
  'audit_log',
  'usage_daily',
  'usage_runs',
];

/** The database of the running test: open store sets on it, and look at its rows underneath them. */
export interface DatabaseUnderTest {
  kind: DatabaseKind;
  /** Another store set on the same database, as another process would open it; closed after the test. */
  open(): Promise<Stores>;
  /** The rows of a table, read past the stores. */
  rows(table: string, where?: string): Promise<Array<Record<string, unknown>>>;
}

/**
 * Registers the hooks that give each test a clean database: a fresh data dir on SQLite; on Postgres, one
 * database for the file (created here, dropped after) emptied before each test.
 */
export function useDatabase(kind: DatabaseKind): DatabaseUnderTest {
  const opened: Stores[] = [];
  let dataDir = '';
  let postgres: TestDatabase | undefined;

  if (kind === 'postgres') {
    beforeAll(async () => {
      postgres = await createTestDatabase('stores');
    });
    afterAll(async () => {
      await postgres?.drop();
    });
  }
  beforeEach(async () => {
    dataDir = tempDir('stores');
    if (postgres) {
      const present = await queryDatabase<{ tablename: string }>(
        postgres.url,
        "select tablename from pg_tables where schemaname = 'public' and tablename = any($1)",
        [TABLES],
      );
      if (present.length > 0)
        await queryDatabase(postgres.url, `truncate ${present.map((t) => t.tablename)}`);
    }
  });
  afterEach(async () => {
    for (const stores of opened.splice(0)) await stores.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  return {
    kind,
    async open() {
      const stores = await openStores({ dataDir, databaseUrl: postgres?.url, databasePoolSize: 4 });
      opened.push(stores);
      return stores;
    },
    async rows(table, where = 'true') {
      if (postgres) return queryDatabase(postgres.url, `select * from ${table} where ${where}`);
      const sqlite = new BetterSqlite3(path.join(dataDir, 'flowscale.db'), { readonly: true });
      try {
        return sqlite.prepare(`select * from ${table} where ${where}`).all() as Array<
          Record<string, unknown>
        >;
      } finally {
        sqlite.close();
      }
    },
  };
}

let clock = Date.parse('2025-03-01T10:00:00.000Z');
/** Distinct, increasing ISO times, so ordering by time is deterministic. */
export const nextTime = (): string => {
  clock += 1000;
  return new Date(clock).toISOString();
};

/** A run as the run service builds one; unicode, nested JSON and key order all have to survive storage. */
export function makeRun(overrides: Partial<Run> = {}): Run {
  const id = overrides.id ?? randomUUID();
  const createdAt = overrides.createdAt ?? nextTime();
  return {
    id,
    workflowId: 'text-echo',
    groupId: null,
    status: 'queued',
    inputs: [{ path: 'default_value_1', value: 'héllo ✓ "quoted"', name: 'default_value_1_1' }],
    outputNames: [`text_3_${id.slice(0, 8)}`],
    outputs: [],
    progress: 0,
    error: null,
    graph: {
      '3': { class_type: 'FSSaveText', inputs: { zeta: 1, text: ['1', 0], alpha: { nested: [1, 2] } } },
      '1': { class_type: 'FSText', inputs: { value: 'héllo' } },
    },
    promptId: randomUUID(),
    backendId: null,
    submittedAt: null,
    createdAt,
    startedAt: null,
    completedAt: null,
    updatedAt: createdAt,
    projectId: 'default',
    metadata: null,
    priority: 'normal',
    timeoutMs: null,
    // Stored and read back as given (the submitting request's trace, for whichever replica runs it).
    traceContext: '{"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}',
    ...overrides,
  };
}

export const queued = { type: 'run.queued', data: { queue_position: 0 } };
