import type { Kysely, Migration } from 'kysely';
import { projectsMigration } from '../../projects/migration';
import { usageMigration } from '../../usage/migration';
import { priorityMigration, traceContextMigration } from './run-columns';
import { webhookOutboxMigration } from './webhook-outbox';
import { webhookTables } from './webhook-tables';

// SQLite's migrations, in code (not files) so the bundled build carries them. Never edit a shipped one
// (existing data dirs recorded it as applied); add a new one after it.
export const sqliteMigrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('runs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workflow_id', 'text', (c) => c.notNull())
        .addColumn('group_id', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('inputs_json', 'text', (c) => c.notNull())
        .addColumn('output_names_json', 'text', (c) => c.notNull())
        .addColumn('outputs_json', 'text', (c) => c.notNull())
        .addColumn('progress', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('error_json', 'text')
        .addColumn('graph_json', 'text', (c) => c.notNull())
        .addColumn('prompt_id', 'text', (c) => c.notNull().unique())
        .addColumn('backend_id', 'text')
        .addColumn('submitted_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text')
        .addColumn('completed_at', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
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
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('data_json', 'text', (c) => c.notNull())
        .addColumn('ts', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('run_events_pk', ['run_id', 'seq'])
        .execute();

      await db.schema
        .createTable('workflows')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('graph_json', 'text', (c) => c.notNull())
        .addColumn('manifest_json', 'text')
        .addColumn('inputs_json', 'text', (c) => c.notNull())
        .addColumn('outputs_json', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('key_hash', 'text', (c) => c.notNull().unique())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text')
        .addColumn('revoked_at', 'text')
        .execute();

      await db.schema
        .createTable('idempotency_keys')
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('request_hash', 'text', (c) => c.notNull())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('idempotency_keys_pk', ['scope', 'key'])
        .execute();

      await db.schema
        .createTable('outputs')
        .addColumn('filename', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('node_id', 'text', (c) => c.notNull())
        .addColumn('content_type', 'text')
        .addColumn('size', 'integer')
        .addColumn('storage_key', 'text')
        .addColumn('ready', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('outputs_name').on('outputs').column('name').execute();
      await db.schema.createIndex('outputs_run').on('outputs').column('run_id').execute();

      await db.schema
        .createTable('input_files')
        .addColumn('sha256', 'text', (c) => c.primaryKey())
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('original_name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('settings')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0002_idempotency_created': {
    // Old idempotency keys are forgotten by age (IdempotencyStore.deleteOlderThan).
    async up(db: Kysely<unknown>) {
      await db.schema
        .createIndex('idempotency_keys_created')
        .on('idempotency_keys')
        .column('created_at')
        .execute();
    },
  },
  '0004_webhooks': {
    // Webhook subscriptions, per-run endpoints, per-project signing secrets, and the durable delivery queue.
    async up(db: Kysely<unknown>) {
      await webhookTables(db, { text: 'text', time: 'text', json: 'text' });
    },
  },
  '0003_projects': projectsMigration('sqlite'),
  '0006_priority': priorityMigration,
  '0007_usage': usageMigration('sqlite'),
  '0008_trace_context': traceContextMigration,
  '0009_webhook_outbox': webhookOutboxMigration({ text: 'text', time: 'text' }),
};
