import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { IdempotencyClaim } from '../records';
import type { Database } from '../schema';
import { SqlIdempotencyStore } from '../sql/idempotency-store';

/** Idempotency keys; the claim checks run synchronously inside the run insert's transaction. */
export class SqliteIdempotencyStore extends SqlIdempotencyStore {
  readonly #find: BetterSqlite3.Statement;
  readonly #claim: BetterSqlite3.Statement;
  readonly #claimNew: BetterSqlite3.Statement;

  constructor(db: Kysely<Database>, sqlite: BetterSqlite3.Database) {
    super(db);
    this.#find = sqlite.prepare(
      'SELECT request_hash, run_id FROM idempotency_keys WHERE scope = ? AND key = ?',
    );
    this.#claim = sqlite.prepare(
      `INSERT INTO idempotency_keys (scope, key, request_hash, run_id, created_at)
       VALUES (@scope, @key, @request_hash, @run_id, @created_at)
       ON CONFLICT (scope, key) DO UPDATE SET request_hash = excluded.request_hash, run_id = excluded.run_id`,
    );
    this.#claimNew = sqlite.prepare(
      `INSERT INTO idempotency_keys (scope, key, request_hash, run_id, created_at)
       VALUES (@scope, @key, @request_hash, @run_id, @created_at)
       ON CONFLICT (scope, key) DO NOTHING`,
    );
  }

  override async find(
    scope: string,
    key: string,
  ): Promise<{ requestHash: string; runId: string } | undefined> {
    const row = this.findNow(scope, key);
    return row ? { requestHash: row.request_hash, runId: row.run_id } : undefined;
  }

  findNow(scope: string, key: string): { request_hash: string; run_id: string } | undefined {
    return this.#find.get(scope, key) as { request_hash: string; run_id: string } | undefined;
  }

  /** Points the key at this run (a new key, or one whose run no longer exists). */
  claimNow(claim: IdempotencyClaim, runId: string, at: string): void {
    this.#claim.run(claimRow(claim, runId, at));
  }

  /** Takes the key for this run if no one has it: true when it was new (one statement, no read first). */
  claimNewNow(claim: IdempotencyClaim, runId: string, at: string): boolean {
    return this.#claimNew.run(claimRow(claim, runId, at)).changes === 1;
  }
}

const claimRow = (claim: IdempotencyClaim, runId: string, at: string) => ({
  scope: claim.scope,
  key: claim.key,
  request_hash: claim.requestHash,
  run_id: runId,
  created_at: at,
});
