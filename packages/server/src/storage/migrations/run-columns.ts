import type { Kysely, Migration } from 'kysely';

// Columns added to `runs` the same way on SQLite and Postgres: one definition for both dialects.

/** 0006: runs waiting for a backend are taken high before normal before low; timeout_ms bounds execution. */
export const priorityMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('runs')
      .addColumn('priority', 'text', (c) => c.notNull().defaultTo('normal'))
      .execute();
    await db.schema.alterTable('runs').addColumn('timeout_ms', 'integer').execute();
  },
};

/** 0008: the submitting request's trace context, so the replica that runs it continues the same trace. */
export const traceContextMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('runs').addColumn('trace_context', 'text').execute();
  },
};
