import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { migrateToLatest } from '../migrations/migrate';
import { sqliteMigrations } from '../migrations/sqlite';
import type { Database } from '../schema';

/**
 * One SQLite database file (WAL) per data dir, shared by every store: kysely for ordinary queries, and the
 * raw better-sqlite3 handle for the prepared statements and synchronous transactions of the hot path.
 */
export interface SqliteConnection {
  sqlite: BetterSqlite3.Database;
  db: Kysely<Database>;
}

export const sqliteFile = (dataDir: string): string => path.join(dataDir, 'flowscale.db');

export async function openSqlite(dataDir: string): Promise<SqliteConnection> {
  fs.mkdirSync(dataDir, { recursive: true });
  const sqlite = new BetterSqlite3(sqliteFile(dataDir));
  try {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    await migrateToLatest(db as Kysely<unknown>, sqliteMigrations);
    return { sqlite, db };
  } catch (error) {
    sqlite.close();
    throw error;
  }
}
