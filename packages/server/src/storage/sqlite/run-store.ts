import type BetterSqlite3 from 'better-sqlite3';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { FirstEvent, IdempotencyClaim, InsertRunResult, Run, RunAdmission, RunPatch } from '../records';
import { RUN_COLUMNS, toPatchRow, toRun, toRunRow } from '../rows';
import type { Database, RunsTable } from '../schema';
import { SqlRunStore } from '../sql/run-store';
import type { SqlExecutor } from '../stores';
import type { SqliteEventStore } from './event-store';
import type { SqliteIdempotencyStore } from './idempotency-store';
import type { SqliteOutputStore } from './output-store';
import type { RunUpdater } from './run-update';
import type { SqliteUsageStatements } from './usage';

export interface SqliteRunStoreParts {
  updater: RunUpdater;
  events: SqliteEventStore;
  outputs: SqliteOutputStore;
  idempotency: SqliteIdempotencyStore;
  usage: SqliteUsageStatements;
}

/**
 * Runs. Insert, point read and update are on every run's hot path: prepared statements, and the insert is
 * one synchronous transaction spanning the other stores' statements on the same connection.
 */
export class SqliteRunStore extends SqlRunStore {
  readonly #sqlite: BetterSqlite3.Database;
  readonly #parts: SqliteRunStoreParts;
  readonly #insert: BetterSqlite3.Statement;
  readonly #get: BetterSqlite3.Statement;
  readonly #claim: BetterSqlite3.Statement;

  constructor(db: Kysely<Database>, sqlite: BetterSqlite3.Database, parts: SqliteRunStoreParts) {
    super(db);
    this.#sqlite = sqlite;
    this.#parts = parts;
    this.#insert = sqlite.prepare(
      `INSERT INTO runs (${RUN_COLUMNS.join(', ')}) VALUES (${RUN_COLUMNS.map((c) => `@${c}`).join(', ')})`,
    );
    this.#get = sqlite.prepare('SELECT * FROM runs WHERE id = ?');
    this.#claim = sqlite.prepare(
      `UPDATE runs SET backend_id = ?, submitted_at = NULL, updated_at = ?
       WHERE id = ? AND status IN ('queued', 'running') AND backend_id IS NULL`,
    );
  }

  override async insert(
    run: Run,
    firstEvent: FirstEvent,
    claim?: IdempotencyClaim,
    // One process alone places its own runs: there is never a queue job to write with the run.
    _alsoInTransaction?: (db: SqlExecutor) => Promise<void>,
    admission?: RunAdmission,
  ): Promise<InsertRunResult> {
    const { events, outputs, idempotency, usage } = this.#parts;
    try {
      return this.#sqlite.transaction((): InsertRunResult => {
        // A new key (the usual case) is taken in one statement; only a key already taken is read.
        if (claim && !idempotency.claimNewNow(claim, run.id, run.createdAt)) {
          const previous = idempotency.findNow(claim.scope, claim.key);
          if (previous && previous.request_hash !== claim.requestHash)
            return { kind: 'conflict', runId: previous.run_id };
          const row = previous && (this.#get.get(previous.run_id) as RunsTable | undefined);
          if (row) return { kind: 'replayed', run: toRun(row) };
          // The key's run no longer exists: the key now names this run.
          idempotency.claimNow(claim, run.id, run.createdAt);
        }
        // A refusal throws here, and the transaction rolls back with nothing written.
        if (admission?.check) admission.check(usage.loadNow(run.projectId, admission));
        // The row is stamped with its first event's time, as appending that event would stamp it.
        const ts = new Date().toISOString();
        this.#insert.run({ ...toRunRow(run), updated_at: ts });
        if (admission) usage.addNow(run.projectId, admission.day, admission.usage);
        outputs.insertPlaceholdersNow(run);
        const data = { status: run.status, progress: run.progress, ...firstEvent.data };
        const event = events.appendFirst(run.id, firstEvent.type, data, ts);
        return { kind: 'created', run: { ...run, updatedAt: ts }, event };
      })();
    } catch (error) {
      events.forgetCachedSeqs();
      throw error;
    }
  }

  protected override metadataText(key: string): RawBuilder<string | null> {
    const path = `$."${key}"`;
    // json_extract gives booleans as 1/0: say true/false, as Postgres's ->> does.
    return sql<
      string | null
    >`(case json_type(metadata_json, ${path}) when 'true' then 'true' when 'false' then 'false' else cast(json_extract(metadata_json, ${path}) as text) end)`;
  }

  override async get(id: string): Promise<Run | undefined> {
    const row = this.#get.get(id) as RunsTable | undefined;
    return row ? toRun(row) : undefined;
  }

  /** As SqlRunStore's, prepared once: every run is claimed at its placement. */
  override async claim(id: string, backendId: string): Promise<boolean> {
    return this.#claim.run(backendId, new Date().toISOString(), id).changes === 1;
  }

  override async update(id: string, patch: RunPatch): Promise<void> {
    this.#parts.updater.update(id, toPatchRow(patch, new Date().toISOString()));
  }
}
