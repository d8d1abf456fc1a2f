import type { Expression, Kysely } from 'kysely';

type ColumnType = 'text' | 'timestamptz' | 'json' | Expression<unknown>;

/** The column types of one database: identifiers, times and JSON text (see each migrations file). */
export interface WebhookColumnTypes {
  text: ColumnType;
  time: ColumnType;
  json: ColumnType;
}

// Both databases create the same four tables; only the column types differ. Shared so they cannot drift.
export async function webhookTables(db: Kysely<unknown>, t: WebhookColumnTypes): Promise<void> {
  await db.schema
    .createTable('webhook_endpoints')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('project_id', t.text, (c) => c.notNull().defaultTo('default'))
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('events_json', t.json, (c) => c.notNull())
    // Null for a per-run endpoint: it is signed with its project's run-webhook secrets.
    .addColumn('secrets_json', t.json)
    .addColumn('run_id', t.text)
    .addColumn('disabled_at', t.time)
    .addColumn('disabled_reason', 'text')
    .addColumn('failing_since', t.time)
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('webhook_endpoints_project')
    .on('webhook_endpoints')
    .column('project_id')
    .execute();
  await db.schema.createIndex('webhook_endpoints_run').on('webhook_endpoints').column('run_id').execute();

  await db.schema
    .createTable('webhook_signing_secrets')
    .addColumn('project_id', t.text, (c) => c.primaryKey())
    .addColumn('secrets_json', t.json, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('endpoint_id', t.text, (c) => c.notNull())
    .addColumn('project_id', t.text, (c) => c.notNull().defaultTo('default'))
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('run_id', t.text)
    .addColumn('payload_json', t.json, (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('step', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', t.time)
    .addColumn('claimed_until', t.time)
    .addColumn('claim_token', 'text')
    .addColumn('last_status_code', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .addColumn('delivered_at', t.time)
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_due')
    .on('webhook_deliveries')
    .columns(['status', 'next_attempt_at'])
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_endpoint')
    .on('webhook_deliveries')
    .columns(['endpoint_id', 'created_at'])
    .execute();

  await db.schema
    .createTable('webhook_attempts')
    .addColumn('delivery_id', t.text, (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('endpoint_id', t.text, (c) => c.notNull())
    .addColumn('started_at', t.time, (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('latency_ms', 'integer', (c) => c.notNull())
    .addColumn('error', 'text')
    .addPrimaryKeyConstraint('webhook_attempts_pk', ['delivery_id', 'attempt'])
    .execute();
}
