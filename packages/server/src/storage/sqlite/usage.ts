import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { ProjectLoad, RunAdmission } from '../records';
import type { Database } from '../schema';
import { SqlUsageStore, usageRows } from '../sql/usage-store';

/**
 * Usage counters and the quota load as synchronous statements, so they join a better-sqlite3 transaction
 * (the run insert's): one process is SQLite's only writer, so check, insert and count cannot interleave.
 */
export class SqliteUsageStatements {
  readonly #unfinished: BetterSqlite3.Statement;
  readonly #createdSince: BetterSqlite3.Statement;
  readonly #bytesIn: BetterSqlite3.Statement;
  readonly #add: BetterSqlite3.Statement;
  readonly #markCounted: BetterSqlite3.Statement;

  constructor(sqlite: BetterSqlite3.Database) {
    this.#unfinished = sqlite.prepare(
      "SELECT status, COUNT(*) AS n FROM runs WHERE project_id = ? AND status IN ('queued', 'running') GROUP BY status",
    );
    this.#createdSince = sqlite.prepare(
      'SELECT COUNT(*) AS n FROM runs WHERE project_id = ? AND created_at >= ?',
    );
    this.#bytesIn = sqlite.prepare(
      "SELECT value FROM usage_daily WHERE project_id = ? AND day = ? AND metric = 'bytes_in'",
    );
    // Every metric of a run in one statement; `WHERE true` lets SQLite parse the upsert after a SELECT.
    this.#add = sqlite.prepare(
      `INSERT INTO usage_daily (project_id, day, metric, value)
       SELECT ?, ?, j.key, j.value FROM json_each(?) AS j WHERE true
       ON CONFLICT (project_id, day, metric) DO UPDATE SET value = usage_daily.value + excluded.value`,
    );
    this.#markCounted = sqlite.prepare(
      'INSERT INTO usage_runs (run_id, project_id, counted_at) VALUES (?, ?, ?) ON CONFLICT (run_id) DO NOTHING',
    );
  }

  loadNow(projectId: string, admission: RunAdmission): ProjectLoad {
    const load: ProjectLoad = { queued: 0, running: 0, created: 0, bytesIn: 0 };
    for (const row of this.#unfinished.all(projectId) as Array<{ status: string; n: number }>) {
      if (row.status === 'queued') load.queued = row.n;
      else load.running = row.n;
    }
    load.created = (this.#createdSince.get(projectId, admission.dayStart) as { n: number }).n;
    const bytes = this.#bytesIn.get(projectId, admission.day) as { value: number } | undefined;
    load.bytesIn = Number(bytes?.value ?? 0);
    return load;
  }

  addNow(projectId: string, day: string, amounts: Record<string, number>): void {
    const rows = usageRows(projectId, day, amounts);
    if (rows.length === 0) return;
    this.#add.run(
      projectId,
      day,
      JSON.stringify(Object.fromEntries(rows.map((row) => [row.metric, row.value]))),
    );
  }

  /** False when the run was counted before. */
  markCountedNow(runId: string, projectId: string): boolean {
    return this.#markCounted.run(runId, projectId, new Date().toISOString()).changes === 1;
  }
}

/** SqlUsageStore with `addOnce` as one synchronous transaction (never interleaved with other writes). */
export class SqliteUsageStore extends SqlUsageStore {
  readonly #sqlite: BetterSqlite3.Database;
  readonly #statements: SqliteUsageStatements;

  constructor(db: Kysely<Database>, sqlite: BetterSqlite3.Database, statements: SqliteUsageStatements) {
    super(db);
    this.#sqlite = sqlite;
    this.#statements = statements;
  }

  override async addOnce(
    runId: string,
    projectId: string,
    day: string,
    amounts: Record<string, number>,
  ): Promise<boolean> {
    return this.#sqlite.transaction(() => {
      if (!this.#statements.markCountedNow(runId, projectId)) return false;
      this.#statements.addNow(projectId, day, amounts);
      return true;
    })();
  }
}
