import { type Kysely, type Migration, sql } from 'kysely';
import { LEASE_TABLES_SQL } from '../../cluster/backend-leases';
import { RATE_USAGE_TABLE_SQL } from '../../limits/shared-rate-limit';
import { projectsMigration } from '../../projects/migration';
import { usageMigration } from '../../usage/migration';
import { priorityMigration, traceContextMigration } from './run-columns';
import { webhookOutboxMigration } from './webhook-outbox';
import { webhookTables } from './webhook-tables';

// Postgres's migrations, in code so the bundled build carries them. Never edit a shipped one; add a new one.
//
// Types: times are timestamptz (read back as the same ISO text SQLite stores), JSON is `json` (kept as the
// exact text written, unlike jsonb, so key order round-trips), sizes are bigint. Identifiers that are
// sorted or looked up use the "C" collation: byte order, as SQLite sorts, whatever the database's locale.
const id = sql`text collate "C"`;

export const postgresMigrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('runs')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('workflow_id', id, (c) => c.notNull())
        .addColumn('group_id', id)
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('inputs_json', 'json', (c) => c.notNull())
        .addColumn('output_names_json', 'json', (c) => c.notNull())
        .addColumn('outputs_json', 'json', (c) => c.notNull())
        .addColumn('progress', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('error_json', 'json')
        .addColumn('graph_json', 'json', (c) => c.notNull())
        .addColumn('prompt_id', id, (c) => c.notNull().unique())
        .addColumn('backend_id', id)
        .addColumn('submitted_at', 'timestamptz')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull())
        .addColumn('started_at', 'timestamptz')
        .addColumn('completed_at', 'timestamptz')
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
        // The run's last event seq: appending bumps it under the row lock, so replicas never share a seq.
        .addColumn('last_seq', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('runs_status').on('runs').column('status').execute();
      await db.schema
        .createIndex('runs_group_created')
        .on('runs')
        .columns(['group_id', 'created_at'])
        .execute();
      await db.schema.createIndex('runs_created').on('runs').column('created_at').execute();

      await db.schema
        .createTable('run_events')
        .addColumn('run_id', id, (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('data_json', 'json', (c) => c.notNull())
        .addColumn('ts', 'timestamptz', (c) => c.notNull())
        .addPrimaryKeyConstraint('run_events_pk', ['run_id', 'seq'])
        .execute();

      await db.schema
        .createTable('workflows')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('name', id, (c) => c.notNull().unique())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('graph_json', 'json', (c) => c.notNull())
        .addColumn('manifest_json', 'json')
        .addColumn('inputs_json', 'json', (c) => c.notNull())
        .addColumn('outputs_json', 'json', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull())
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('api_keys')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('key_hash', id, (c) => c.notNull().unique())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull())
        .addColumn('last_used_at', 'timestamptz')
        .addColumn('revoked_at', 'timestamptz')
        .execute();

      await db.schema
        .createTable('idempotency_keys')
        .addColumn('scope', id, (c) => c.notNull())
        .addColumn('key', id, (c) => c.notNull())
        .addColumn('request_hash', 'text', (c) => c.notNull())
        .addColumn('run_id', id, (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull())
        .addPrimaryKeyConstraint('idempotency_keys_pk', ['scope', 'key'])
        .execute();
      await db.schema
        .createIndex('idempotency_keys_created')
        .on('idempotency_keys')
        .column('created_at')
        .execute();

      await db.schema
        .createTable('outputs')
        .addColumn('filename', id, (c) => c.primaryKey())
        .addColumn('name', id, (c) => c.notNull())
        .addColumn('run_id', id, (c) => c.notNull())
        .addColumn('node_id', 'text', (c) => c.notNull())
        .addColumn('content_type', 'text')
        .addColumn('size', 'bigint')
        .addColumn('storage_key', 'text')
        // 0/1 rather than boolean: the output queries are shared with SQLite, which has no boolean.
        .addColumn('ready', 'smallint', (c) => c.notNull().defaultTo(0).check(sql`ready in (0, 1)`))
        .addColumn('created_at', 'timestamptz', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('outputs_name').on('outputs').column('name').execute();
      await db.schema.createIndex('outputs_run').on('outputs').column('run_id').execute();

      await db.schema
        .createTable('input_files')
        .addColumn('sha256', id, (c) => c.primaryKey())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('original_name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('settings')
        .addColumn('key', id, (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0002_cluster': {
    // Replicas sharing this database: who owns which backend, who is alive, and the shared rate counts.
    async up(db: Kysely<unknown>) {
      await sql.raw(LEASE_TABLES_SQL).execute(db);
      await sql.raw(RATE_USAGE_TABLE_SQL).execute(db);
    },
  },
  '0004_webhooks': {
    // Webhook subscriptions, per-run endpoints, per-project signing secrets, and the durable delivery queue.
    async up(db: Kysely<unknown>) {
      await webhookTables(db, { text: id, time: 'timestamptz', json: 'json' });
    },
  },
  '0003_projects': projectsMigration('postgres'),
  '0006_priority': priorityMigration,
  '0007_usage': usageMigration('postgres'),
  '0008_trace_context': traceContextMigration,
  '0009_webhook_outbox': webhookOutboxMigration({ text: id, time: 'timestamptz' }),
};
