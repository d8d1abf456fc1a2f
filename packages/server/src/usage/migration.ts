import type { Kysely, Migration } from 'kysely';
import { sql } from 'kysely';

/**
 * `0007_usage`, the same change on both databases: which runs' ends were already added to `usage_daily`.
 * A row per counted run is what makes counting its end idempotent across replicas and retries: the insert
 * of the row and the additions commit together, and a second attempt finds the row and adds nothing.
 */
export function usageMigration(kind: 'sqlite' | 'postgres'): Migration {
  const pg = kind === 'postgres';
  const id = pg ? sql`text collate "C"` : sql`text`;
  const time = pg ? sql`timestamptz` : sql`text`;
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('usage_runs')
        .addColumn('run_id', id, (c) => c.primaryKey())
        .addColumn('project_id', id, (c) => c.notNull())
        .addColumn('counted_at', time, (c) => c.notNull())
        .execute();
      // Runs that ended before usage was kept are not counted now (their inputs are not known to have
      // been counted either); only runs still unfinished will be.
      await sql`insert into usage_runs (run_id, project_id, counted_at)
        select id, project_id, ${pg ? sql`now()` : sql`strftime('%Y-%m-%dT%H:%M:%fZ','now')`} from runs
        where status in ('completed', 'failed', 'cancelled')`.execute(db);
    },
  };
}
