import { sql } from 'kysely';
import { SqlAuditStore } from '../sql/audit-store';
import { SqlIdempotencyStore } from '../sql/idempotency-store';
import { SqlInputFileRecordStore } from '../sql/input-file-store';
import { SqlKeyStore } from '../sql/key-store';
import { SqlOutputStore } from '../sql/output-store';
import { SqlProjectStore } from '../sql/project-store';
import { SqlSettingsStore } from '../sql/settings-store';
import { SqlUsageStore } from '../sql/usage-store';
import { SqlWebhookStore } from '../sql/webhook-store';
import { SqlWorkflowStore } from '../sql/workflow-store';
import type { Stores } from '../stores';
import { openPostgres, type PostgresOptions } from './connection';
import { PostgresEventStore } from './event-store';
import { PostgresRunStore } from './run-store';

const PING_TIMEOUT_MS = 3000;

/** Every store over one pg pool, migrated to the latest schema (under an advisory lock). */
export async function openPostgresStores(options: PostgresOptions): Promise<Stores> {
  const { db } = await openPostgres(options);
  const events = new PostgresEventStore(db);
  let closing: Promise<void> | undefined;
  return {
    kind: 'postgres',
    runs: new PostgresRunStore(db),
    events,
    outputs: new SqlOutputStore(db),
    workflows: new SqlWorkflowStore(db),
    keys: new SqlKeyStore(db),
    idempotency: new SqlIdempotencyStore(db),
    inputFiles: new SqlInputFileRecordStore(db),
    settings: new SqlSettingsStore(db),
    webhooks: new SqlWebhookStore(db, 'postgres'),
    projects: new SqlProjectStore(db),
    audit: new SqlAuditStore(db),
    usage: new SqlUsageStore(db),
    async ping() {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS);
      });
      try {
        await Promise.race([sql`select 1`.execute(db), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    close() {
      closing ??= (async () => {
        await events.settled();
        await db.destroy();
      })();
      return closing;
    },
  };
}
