import type { Kysely, Migration } from 'kysely';
import type { WebhookColumnTypes } from './webhook-tables';

/**
 * 0009_webhook_outbox, the same in both databases but for column types.
 *
 * `webhook_outbox` holds one row per webhook-worthy run event, written in the transaction that appends the
 * event (when the run's project or the run has an enabled endpoint), and deleted in the transaction that
 * stores the event's deliveries. A process killed between the two leaves the row, and the next sweep makes
 * the deliveries: committing a run's end can no longer lose its webhook.
 *
 * `lapsed_claim_at` remembers, when a delivery is claimed again after a claim lapsed (its process died or
 * stalled mid-attempt), when that lost attempt began, so the delivery log shows it instead of a gap.
 */
export function webhookOutboxMigration(t: Pick<WebhookColumnTypes, 'text' | 'time'>): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('webhook_outbox')
        .addColumn('run_id', t.text, (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addPrimaryKeyConstraint('webhook_outbox_pk', ['run_id', 'seq'])
        .execute();
      await db.schema
        .createIndex('webhook_outbox_created')
        .on('webhook_outbox')
        .column('created_at')
        .execute();
      await db.schema.alterTable('webhook_deliveries').addColumn('lapsed_claim_at', t.time).execute();
    },
  };
}
