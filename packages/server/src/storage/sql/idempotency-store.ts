import type { Kysely } from 'kysely';
import type { Database } from '../schema';
import type { IdempotencyStore } from '../stores';

/** Idempotency keys in portable SQL. Claims are made inside `RunStore.insert`, never here. */
export class SqlIdempotencyStore implements IdempotencyStore {
  protected readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async find(scope: string, key: string): Promise<{ requestHash: string; runId: string } | undefined> {
    const row = await this.db
      .selectFrom('idempotency_keys')
      .select(['request_hash', 'run_id'])
      .where('scope', '=', scope)
      .where('key', '=', key)
      .executeTakeFirst();
    return row ? { requestHash: row.request_hash, runId: row.run_id } : undefined;
  }

  async deleteOlderThan(cutoff: string): Promise<number> {
    const result = await this.db
      .deleteFrom('idempotency_keys')
      .where('created_at', '<', cutoff)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
