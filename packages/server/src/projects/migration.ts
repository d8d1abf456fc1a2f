import { type Kysely, type Migration, sql } from 'kysely';

/** The project every existing key and run belongs to, and where configured keys live. */
export const DEFAULT_PROJECT_ID = 'default';

/**
 * `0003_projects`, the same change on both databases: projects, the owner of each key and run, run metadata,
 * workflows restricted to projects, the audit log and per-day usage. Existing `user` keys become `member`s.
 */
export function projectsMigration(kind: 'sqlite' | 'postgres'): Migration {
  const pg = kind === 'postgres';
  // Postgres sorts and looks up identifiers in byte order ("C"), as SQLite does.
  const id = pg ? sql`text collate "C"` : sql`text`;
  const time = pg ? sql`timestamptz` : sql`text`;
  const json = pg ? sql`json` : sql`text`;
  const number = pg ? sql`double precision` : sql`real`;
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('projects')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('name', id, (c) => c.notNull().unique())
        .addColumn('limits_json', json)
        .addColumn('created_at', time, (c) => c.notNull())
        .execute();
      await sql`insert into projects (id, name, created_at) values (${DEFAULT_PROJECT_ID}, ${DEFAULT_PROJECT_ID}, ${new Date().toISOString()})`.execute(
        db,
      );

      await db.schema
        .alterTable('api_keys')
        .addColumn('project_id', id, (c) => c.notNull().defaultTo(DEFAULT_PROJECT_ID))
        .execute();
      await db.schema.alterTable('api_keys').addColumn('expires_at', time).execute();
      await sql`update api_keys set role = 'member' where role = 'user'`.execute(db);

      await db.schema
        .alterTable('runs')
        .addColumn('project_id', id, (c) => c.notNull().defaultTo(DEFAULT_PROJECT_ID))
        .execute();
      await db.schema.alterTable('runs').addColumn('metadata_json', json).execute();
      await db.schema
        .createIndex('runs_project_created')
        .on('runs')
        .columns(['project_id', 'created_at'])
        .execute();

      // Null: shared with every project; otherwise a JSON array of the project ids that may use it.
      await db.schema.alterTable('workflows').addColumn('projects_json', json).execute();

      await db.schema
        .createTable('audit_log')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('at', time, (c) => c.notNull())
        .addColumn('actor_id', id)
        .addColumn('actor_name', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target', 'text')
        .addColumn('project_id', id)
        .addColumn('details_json', json)
        .execute();
      await db.schema.createIndex('audit_log_at').on('audit_log').columns(['at', 'id']).execute();

      await db.schema
        .createTable('usage_daily')
        .addColumn('project_id', id, (c) => c.notNull())
        .addColumn('day', id, (c) => c.notNull())
        .addColumn('metric', id, (c) => c.notNull())
        .addColumn('value', number, (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('usage_daily_pk', ['project_id', 'day', 'metric'])
        .execute();
    },
  };
}
