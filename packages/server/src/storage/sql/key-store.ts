import type { Kysely } from 'kysely';
import type { ApiKeyRecord } from '../records';
import { toKey, toKeyRow } from '../rows';
import type { Database } from '../schema';
import type { KeyStore } from '../stores';

/** API keys (hashes only) in portable SQL; lookups are cached above this, in the key service. */
export class SqlKeyStore implements KeyStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insert(record: ApiKeyRecord): Promise<void> {
    await this.#db
      .insertInto('api_keys')
      .values(toKeyRow(record))
      .onConflict((oc) =>
        oc.column('key_hash').doUpdateSet({
          revoked_at: null,
          role: record.role,
          project_id: record.projectId,
          expires_at: record.expiresAt,
        }),
      )
      .execute();
  }

  async findByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.#db
      .selectFrom('api_keys')
      .selectAll()
      .where('key_hash', '=', keyHash)
      .executeTakeFirst();
    return row ? toKey(row) : undefined;
  }

  async list(): Promise<ApiKeyRecord[]> {
    const rows = await this.#db
      .selectFrom('api_keys')
      .selectAll()
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .execute();
    return rows.map(toKey);
  }

  async revoke(id: string, at: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('api_keys')
      .set({ revoked_at: at })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async revokeConfigKeysExcept(keepHashes: string[], at: string): Promise<void> {
    let query = this.#db
      .updateTable('api_keys')
      .set({ revoked_at: at })
      .where('source', '=', 'config')
      .where('revoked_at', 'is', null);
    if (keepHashes.length > 0) query = query.where('key_hash', 'not in', keepHashes);
    await query.execute();
  }

  async touch(id: string, at: string): Promise<void> {
    await this.#db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
  }

  async countUsable(): Promise<number> {
    const row = await this.#db
      .selectFrom('api_keys')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('revoked_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
