import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { RunEvent, RunPatch } from '../../../src/storage/records';
import type { EventStore } from '../../../src/storage/stores';

/** The server the tests create their databases on; FLOWSCALE_TEST_PG_URL overrides it. */
const ADMIN_URL = process.env.FLOWSCALE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A database of its own for one test file (fs_test_<random>), dropped by `drop()`. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(
      `Postgres is not reachable at ${ADMIN_URL} (${(error as Error).message}). These tests need a real ` +
        'Postgres: start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, ' +
        'or point FLOWSCALE_TEST_PG_URL at one (a role that may CREATE DATABASE).',
    );
  }
  const name = `fs_test_${randomBytes(6).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/**
 * The `EventStore` interface over a real table of the test database. It stands in for the Postgres event
 * store another branch is writing; once that lands, the relay tests should use it instead. The patch to
 * the run record is not applied: these tests have no runs table, only the log.
 */
export class PgTestEventStore implements EventStore {
  readonly pool: pg.Pool;

  private constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  static async open(url: string): Promise<PgTestEventStore> {
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    // Idle sessions are terminated when the database is dropped (WITH FORCE); that is expected here.
    pool.on('error', () => undefined);
    await pool.query(
      `CREATE TABLE IF NOT EXISTS run_events (
         run_id text NOT NULL, seq integer NOT NULL, type text NOT NULL, ts text NOT NULL, data jsonb NOT NULL,
         PRIMARY KEY (run_id, seq))`,
    );
    return new PgTestEventStore(pool);
  }

  async append(
    runId: string,
    type: string,
    data: Record<string, unknown>,
    _patch: RunPatch = {},
  ): Promise<RunEvent> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // One writer per run at a time, as the run's owner is; the lock makes concurrent tests safe anyway.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [runId]);
      const last = await client.query<{ seq: number | null }>(
        'SELECT max(seq) AS seq FROM run_events WHERE run_id = $1',
        [runId],
      );
      const seq = Number(last.rows[0]?.seq ?? 0) + 1;
      const ts = new Date().toISOString();
      const event: RunEvent = { runId, seq, type, ts, data: { ...data, seq, run_id: runId, type, ts } };
      await client.query('INSERT INTO run_events (run_id, seq, type, ts, data) VALUES ($1, $2, $3, $4, $5)', [
        runId,
        seq,
        type,
        ts,
        JSON.stringify(event.data),
      ]);
      await client.query('COMMIT');
      return event;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async list(runId: string, fromSeq: number): Promise<RunEvent[]> {
    const result = await this.pool.query<{
      seq: number;
      type: string;
      ts: string;
      data: Record<string, unknown>;
    }>('SELECT seq, type, ts, data FROM run_events WHERE run_id = $1 AND seq >= $2 ORDER BY seq', [
      runId,
      fromSeq,
    ]);
    return result.rows.map((row) => ({ runId, seq: row.seq, type: row.type, ts: row.ts, data: row.data }));
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
