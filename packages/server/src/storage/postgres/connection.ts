import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { migrateToLatest } from '../migrations/migrate';
import { postgresMigrations } from '../migrations/postgres';
import type { Database } from '../schema';

export interface PostgresOptions {
  url: string;
  /** Connections in this process's pool. */
  poolSize: number;
  /** Errors of idle pooled connections (e.g. the server restarted); the pool replaces them by itself. */
  onPoolError?: (error: Error) => void;
  connectTimeoutMs?: number;
}

const TIMESTAMPTZ = 1184;
const JSON_TEXT = 114;
const INT8 = 20;
const parseTimestamptz = pg.types.getTypeParser(TIMESTAMPTZ, 'text') as (value: string) => Date;

/**
 * Values come back in the shapes SQLite stores, so both databases share one row mapping: times as ISO text
 * (the same string that was written, which always comes from `toISOString`), `json` columns as the exact
 * text written, and bigint counts and sizes as numbers (all far below 2^53).
 */
const getTypeParser = ((oid: number, format?: 'text' | 'binary') => {
  if (oid === TIMESTAMPTZ) return (value: string) => parseTimestamptz(value).toISOString();
  if (oid === JSON_TEXT) return (value: string) => value;
  if (oid === INT8) return (value: string) => Number(value);
  return pg.types.getTypeParser(oid, format);
}) as typeof pg.types.getTypeParser;

/** Any number; it only has to differ from other advisory locks taken in the same database. */
const MIGRATION_LOCK = 0x464c_5353;

export interface PostgresConnection {
  pool: pg.Pool;
  db: Kysely<Database>;
}

/**
 * Without a listener, a connection's error (Postgres restarting, a terminated backend) crashes the
 * process. The pool listens only to idle connections; a connection checked out for a transaction
 * emits on the client itself, so every client gets its own listener for its whole life. The query
 * in flight still fails, and the pool drops the broken client when it is released.
 */
export function guardPoolErrors(pool: pg.Pool, onError: (error: Error) => void): void {
  pool.on('error', onError);
  pool.on('connect', (client) => client.on('error', onError));
}

/** Connects, proves the database answers, and migrates it; the caller turns failures into start-up errors. */
export async function openPostgres(options: PostgresOptions): Promise<PostgresConnection> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    application_name: 'flowscale-server',
    // Notices a peer that vanished without closing (a failed-over database) on idle connections too.
    keepAlive: true,
    types: { getTypeParser },
  });
  guardPoolErrors(pool, (error) => options.onPoolError?.(error));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await sql`select 1`.execute(db);
    await migrateUnderLock(db);
    return { pool, db };
  } catch (error) {
    await db.destroy().catch(() => undefined);
    throw error;
  }
}

/**
 * Replicas starting together queue on a session advisory lock, held on one connection for the whole
 * migration (including the creation of kysely's own bookkeeping tables), so exactly one of them migrates
 * and the others find nothing left to do.
 */
async function migrateUnderLock(db: Kysely<Database>): Promise<void> {
  await db.connection().execute(async (connection) => {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK})`.execute(connection);
    try {
      await migrateToLatest(connection as Kysely<unknown>, postgresMigrations);
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK})`.execute(connection);
    }
  });
}
