import { SqlAuditStore } from '../sql/audit-store';
import { SqlInputFileRecordStore } from '../sql/input-file-store';
import { SqlKeyStore } from '../sql/key-store';
import { SqlProjectStore } from '../sql/project-store';
import { SqlSettingsStore } from '../sql/settings-store';
import { SqlWebhookStore } from '../sql/webhook-store';
import { SqlWorkflowStore } from '../sql/workflow-store';
import type { Stores } from '../stores';
import { openSqlite } from './connection';
import { cachingEndpoints } from './endpoint-cache';
import { SqliteEventStore } from './event-store';
import { SqliteIdempotencyStore } from './idempotency-store';
import { SqliteOutputStore } from './output-store';
import { SqliteRunStore } from './run-store';
import { RunUpdater } from './run-update';
import { SqliteUsageStatements, SqliteUsageStore } from './usage';

/** Every store over one SQLite file in the data dir, migrated to the latest schema. */
export async function openSqliteStores(dataDir: string): Promise<Stores> {
  const { sqlite, db } = await openSqlite(dataDir);
  const updater = new RunUpdater(sqlite);
  const events = new SqliteEventStore(sqlite);
  const outputs = new SqliteOutputStore(db, sqlite);
  const idempotency = new SqliteIdempotencyStore(db, sqlite);
  const usage = new SqliteUsageStatements(sqlite);
  const ping = sqlite.prepare('SELECT 1');
  return {
    kind: 'sqlite',
    runs: new SqliteRunStore(db, sqlite, { updater, events, outputs, idempotency, usage }),
    events,
    outputs,
    workflows: new SqlWorkflowStore(db),
    keys: new SqlKeyStore(db),
    idempotency,
    inputFiles: new SqlInputFileRecordStore(db),
    settings: new SqlSettingsStore(db),
    // One process alone writes this file: the endpoints every webhook event asks for are kept in memory.
    webhooks: cachingEndpoints(new SqlWebhookStore(db, 'sqlite'), db),
    projects: new SqlProjectStore(db),
    audit: new SqlAuditStore(db),
    usage: new SqliteUsageStore(db, sqlite, usage),
    async ping() {
      ping.get();
    },
    close: () => db.destroy(),
  };
}
