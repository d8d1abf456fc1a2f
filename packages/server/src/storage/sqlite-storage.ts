import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, type Selectable, SqliteDialect } from 'kysely';
import type { ComfyGraph } from '../workflows/types';
import { migrateToLatest } from './migrations';
import type {
  ApiKeysTable,
  Database,
  OutputsTable,
  RunEventsTable,
  RunsTable,
  WorkflowsTable,
} from './schema';
import type {
  ApiKeyRecord,
  FirstEvent,
  IdempotencyClaim,
  InsertRunResult,
  KeyRole,
  OutputRecord,
  Run,
  RunEvent,
  RunListQuery,
  RunPatch,
  RunStatus,
  Storage,
  StoredFileRef,
  WorkflowRecord,
} from './types';

interface PendingAppend {
  runId: string;
  type: string;
  data: Record<string, unknown>;
  patch: RunPatch;
  resolve: (event: RunEvent) => void;
  reject: (error: unknown) => void;
}

const SEQ_CACHE_LIMIT = 10_000;

interface HotStatements {
  insertRun: BetterSqlite3.Statement;
  getRun: BetterSqlite3.Statement;
  insertPlaceholder: BetterSqlite3.Statement;
  findClaim: BetterSqlite3.Statement;
  upsertClaim: BetterSqlite3.Statement;
  lastSeq: BetterSqlite3.Statement;
  insertEvent: BetterSqlite3.Statement;
  listEvents: BetterSqlite3.Statement;
  outputByFilename: BetterSqlite3.Statement;
  readyOutputByName: BetterSqlite3.Statement;
  upsertOutput: BetterSqlite3.Statement;
}

const RUN_COLUMNS: Array<keyof RunsTable> = [
  'id',
  'workflow_id',
  'group_id',
  'status',
  'inputs_json',
  'output_names_json',
  'outputs_json',
  'progress',
  'error_json',
  'graph_json',
  'prompt_id',
  'backend_id',
  'submitted_at',
  'created_at',
  'started_at',
  'completed_at',
  'updated_at',
];

const prepareHotStatements = (sqlite: BetterSqlite3.Database): HotStatements => ({
  insertRun: sqlite.prepare(
    `INSERT INTO runs (${RUN_COLUMNS.join(', ')}) VALUES (${RUN_COLUMNS.map((c) => `@${c}`).join(', ')})`,
  ),
  getRun: sqlite.prepare('SELECT * FROM runs WHERE id = ?'),
  insertPlaceholder: sqlite.prepare(
    `INSERT INTO outputs (filename, name, run_id, node_id, content_type, size, storage_key, ready, created_at)
     VALUES (@name, @name, @run_id, @node_id, NULL, NULL, NULL, 0, @created_at)`,
  ),
  findClaim: sqlite.prepare('SELECT request_hash, run_id FROM idempotency_keys WHERE scope = ? AND key = ?'),
  upsertClaim: sqlite.prepare(
    `INSERT INTO idempotency_keys (scope, key, request_hash, run_id, created_at)
     VALUES (@scope, @key, @request_hash, @run_id, @created_at)
     ON CONFLICT (scope, key) DO UPDATE SET request_hash = excluded.request_hash, run_id = excluded.run_id`,
  ),
  lastSeq: sqlite.prepare('SELECT MAX(seq) AS seq FROM run_events WHERE run_id = ?'),
  insertEvent: sqlite.prepare(
    'INSERT INTO run_events (run_id, seq, type, data_json, ts) VALUES (@run_id, @seq, @type, @data_json, @ts)',
  ),
  listEvents: sqlite.prepare('SELECT * FROM run_events WHERE run_id = ? AND seq >= ? ORDER BY seq ASC'),
  outputByFilename: sqlite.prepare('SELECT * FROM outputs WHERE filename = ?'),
  upsertOutput: sqlite.prepare(
    `INSERT INTO outputs (filename, name, run_id, node_id, content_type, size, storage_key, ready, created_at)
     VALUES (@filename, @name, @run_id, @node_id, @content_type, @size, @storage_key, @ready, @created_at)
     ON CONFLICT (filename) DO UPDATE SET content_type = excluded.content_type, size = excluded.size,
       storage_key = excluded.storage_key, ready = excluded.ready`,
  ),
  readyOutputByName: sqlite.prepare(
    'SELECT * FROM outputs WHERE name = ? AND ready = 1 ORDER BY filename ASC LIMIT 1',
  ),
});

const toRun = (row: Selectable<RunsTable>): Run => ({
  id: row.id,
  workflowId: row.workflow_id,
  groupId: row.group_id,
  status: row.status as RunStatus,
  inputs: JSON.parse(row.inputs_json),
  outputNames: JSON.parse(row.output_names_json),
  outputs: JSON.parse(row.outputs_json),
  progress: row.progress,
  error: row.error_json ? JSON.parse(row.error_json) : null,
  graph: JSON.parse(row.graph_json) as ComfyGraph,
  promptId: row.prompt_id,
  backendId: row.backend_id,
  submittedAt: row.submitted_at,
  createdAt: row.created_at,
  startedAt: row.started_at,
  completedAt: row.completed_at,
  updatedAt: row.updated_at,
});

const toRunRow = (run: Run): RunsTable => ({
  id: run.id,
  workflow_id: run.workflowId,
  group_id: run.groupId,
  status: run.status,
  inputs_json: JSON.stringify(run.inputs),
  output_names_json: JSON.stringify(run.outputNames),
  outputs_json: JSON.stringify(run.outputs),
  progress: run.progress,
  error_json: run.error ? JSON.stringify(run.error) : null,
  graph_json: JSON.stringify(run.graph),
  prompt_id: run.promptId,
  backend_id: run.backendId,
  submitted_at: run.submittedAt,
  created_at: run.createdAt,
  started_at: run.startedAt,
  completed_at: run.completedAt,
  updated_at: run.updatedAt,
});

const toPatchRow = (patch: RunPatch, now: string): Partial<RunsTable> => {
  const row: Partial<RunsTable> = { updated_at: now };
  if (patch.status !== undefined) row.status = patch.status;
  if (patch.outputs !== undefined) row.outputs_json = JSON.stringify(patch.outputs);
  if (patch.progress !== undefined) row.progress = patch.progress;
  if (patch.error !== undefined) row.error_json = patch.error ? JSON.stringify(patch.error) : null;
  if (patch.backendId !== undefined) row.backend_id = patch.backendId;
  if (patch.submittedAt !== undefined) row.submitted_at = patch.submittedAt;
  if (patch.startedAt !== undefined) row.started_at = patch.startedAt;
  if (patch.completedAt !== undefined) row.completed_at = patch.completedAt;
  if (patch.promptId !== undefined) row.prompt_id = patch.promptId;
  return row;
};

const toWorkflow = (row: Selectable<WorkflowsTable>): WorkflowRecord => ({
  id: row.id,
  name: row.name,
  description: row.description,
  graph: JSON.parse(row.graph_json),
  manifest: row.manifest_json ? JSON.parse(row.manifest_json) : null,
  inputsJson: row.inputs_json,
  outputsJson: row.outputs_json,
  source: row.source as WorkflowRecord['source'],
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const toKey = (row: Selectable<ApiKeysTable>): ApiKeyRecord => ({
  id: row.id,
  name: row.name,
  role: row.role as KeyRole,
  prefix: row.prefix,
  keyHash: row.key_hash,
  source: row.source as ApiKeyRecord['source'],
  createdAt: row.created_at,
  lastUsedAt: row.last_used_at,
  revokedAt: row.revoked_at,
});

const toOutput = (row: Selectable<OutputsTable>): OutputRecord => ({
  filename: row.filename,
  name: row.name,
  runId: row.run_id,
  nodeId: row.node_id,
  contentType: row.content_type,
  size: row.size,
  storageKey: row.storage_key,
  ready: row.ready === 1,
});

/**
 * SQLite (WAL) storage. Queries go through kysely, except the few on every run's hot path (insert, event
 * append, update, point read), which use prepared better-sqlite3 statements in synchronous transactions:
 * an event append costs ~20 µs that way instead of ~350 µs through an async kysely transaction.
 */
export class SqliteStorage implements Storage {
  readonly #db: Kysely<Database>;
  readonly #sqlite: BetterSqlite3.Database;
  readonly #hot: HotStatements;
  readonly #updates = new Map<string, BetterSqlite3.Statement>();
  /** Last event seq per run; this process is the only writer, so it never goes stale. */
  readonly #lastSeq = new Map<string, number>();
  #pendingAppends: PendingAppend[] = [];

  private constructor(db: Kysely<Database>, sqlite: BetterSqlite3.Database) {
    this.#db = db;
    this.#sqlite = sqlite;
    this.#hot = prepareHotStatements(sqlite);
  }

  static async open(dataDir: string): Promise<SqliteStorage> {
    fs.mkdirSync(dataDir, { recursive: true });
    const sqlite = new BetterSqlite3(path.join(dataDir, 'flowscale.db'));
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    await migrateToLatest(db as Kysely<unknown>);
    return new SqliteStorage(db, sqlite);
  }

  async close(): Promise<void> {
    await this.#db.destroy();
  }

  // ---- runs ----

  async insertRun(run: Run, firstEvent: FirstEvent, claim?: IdempotencyClaim): Promise<InsertRunResult> {
    return this.#sqlite.transaction((): InsertRunResult => {
      if (claim) {
        const previous = this.#hot.findClaim.get(claim.scope, claim.key) as
          | { request_hash: string; run_id: string }
          | undefined;
        if (previous) {
          if (previous.request_hash !== claim.requestHash)
            return { kind: 'conflict', runId: previous.run_id };
          const row = this.#hot.getRun.get(previous.run_id) as Selectable<RunsTable> | undefined;
          if (row) return { kind: 'replayed', run: toRun(row) };
        }
      }
      this.#hot.insertRun.run(toRunRow(run));
      for (const name of run.outputNames) {
        this.#hot.insertPlaceholder.run({
          name,
          run_id: run.id,
          node_id: name.split('_').at(-2) ?? '',
          created_at: run.createdAt,
        });
      }
      if (claim) {
        this.#hot.upsertClaim.run({
          scope: claim.scope,
          key: claim.key,
          request_hash: claim.requestHash,
          run_id: run.id,
          created_at: run.createdAt,
        });
      }
      const event = this.#appendNow({
        runId: run.id,
        type: firstEvent.type,
        data: { status: run.status, progress: run.progress, ...firstEvent.data },
        patch: {},
      });
      return { kind: 'created', run: { ...run, updatedAt: event.ts }, event };
    })();
  }

  async getRun(id: string): Promise<Run | undefined> {
    const row = this.#hot.getRun.get(id) as Selectable<RunsTable> | undefined;
    return row ? toRun(row) : undefined;
  }

  async listRuns(query: RunListQuery): Promise<{ runs: Run[]; total: number }> {
    let base = this.#db.selectFrom('runs');
    if (query.groupId !== undefined) base = base.where('group_id', '=', query.groupId);
    const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await base
      .selectAll()
      .orderBy(query.sortBy, query.sortOrder)
      .orderBy('id', query.sortOrder)
      .limit(query.pageSize)
      .offset((query.page - 1) * query.pageSize)
      .execute();
    return { runs: rows.map(toRun), total: Number(total.n) };
  }

  async listUnfinishedRuns(): Promise<Run[]> {
    const rows = await this.#db
      .selectFrom('runs')
      .selectAll()
      .where('status', 'in', ['queued', 'running'])
      .orderBy('created_at', 'asc')
      .execute();
    return rows.map(toRun);
  }

  async updateRun(id: string, patch: RunPatch): Promise<void> {
    this.#updateRunNow(id, toPatchRow(patch, new Date().toISOString()));
  }

  /** Statements are cached per set of changed columns. */
  #updateRunNow(id: string, row: Partial<RunsTable>): void {
    const columns = Object.keys(row).sort();
    const signature = columns.join(',');
    let statement = this.#updates.get(signature);
    if (!statement) {
      statement = this.#sqlite.prepare(
        `UPDATE runs SET ${columns.map((c) => `${c} = @${c}`).join(', ')} WHERE id = @id`,
      );
      this.#updates.set(signature, statement);
    }
    statement.run({ ...row, id });
  }

  /**
   * Appends are batched: every append requested before the next microtask checkpoint is committed in one transaction
   * (one WAL commit instead of one per event), then each caller's promise resolves in request order.
   */
  appendEvent(
    runId: string,
    type: string,
    data: Record<string, unknown>,
    patch: RunPatch,
  ): Promise<RunEvent> {
    return new Promise<RunEvent>((resolve, reject) => {
      this.#pendingAppends.push({ runId, type, data, patch, resolve, reject });
      if (this.#pendingAppends.length === 1) queueMicrotask(() => this.#flushAppends());
    });
  }

  #flushAppends(): void {
    const batch = this.#pendingAppends;
    this.#pendingAppends = [];
    let events: RunEvent[];
    try {
      events = this.#sqlite.transaction(() => batch.map((append) => this.#appendNow(append)))();
    } catch (error) {
      this.#lastSeq.clear();
      for (const append of batch) append.reject(error);
      return;
    }
    for (const [index, append] of batch.entries()) append.resolve(events[index] as RunEvent);
  }

  #appendNow({
    runId,
    type,
    data,
    patch,
  }: Pick<PendingAppend, 'runId' | 'type' | 'data' | 'patch'>): RunEvent {
    let last = this.#lastSeq.get(runId);
    if (last === undefined) {
      const row = this.#hot.lastSeq.get(runId) as { seq: number | null } | undefined;
      last = Number(row?.seq ?? 0);
    }
    const seq = last + 1;
    if (this.#lastSeq.size >= SEQ_CACHE_LIMIT)
      this.#lastSeq.delete(this.#lastSeq.keys().next().value as string);
    this.#lastSeq.set(runId, seq);
    const ts = new Date().toISOString();
    const event: RunEvent = { runId, seq, type, ts, data: { ...data, seq, run_id: runId, type, ts } };
    this.#hot.insertEvent.run({ run_id: runId, seq, type, ts, data_json: JSON.stringify(event.data) });
    this.#updateRunNow(runId, toPatchRow(patch, ts));
    return event;
  }

  async listEvents(runId: string, fromSeq: number): Promise<RunEvent[]> {
    const rows = this.#hot.listEvents.all(runId, fromSeq) as Array<Selectable<RunEventsTable>>;
    return rows.map((row) => ({
      runId,
      seq: row.seq,
      type: row.type,
      ts: row.ts,
      data: JSON.parse(row.data_json),
    }));
  }

  async countRunsByStatus(): Promise<Record<string, number>> {
    const rows = await this.#db
      .selectFrom('runs')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute();
    return Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]));
  }

  // ---- outputs ----

  async saveOutputFile(record: OutputRecord): Promise<void> {
    this.#hot.upsertOutput.run({
      filename: record.filename,
      name: record.name,
      run_id: record.runId,
      node_id: record.nodeId,
      content_type: record.contentType,
      size: record.size,
      storage_key: record.storageKey,
      ready: record.ready ? 1 : 0,
      created_at: new Date().toISOString(),
    });
  }

  async findOutput(filenameOrName: string): Promise<OutputRecord | undefined> {
    const exact = this.#hot.outputByFilename.get(filenameOrName) as Selectable<OutputsTable> | undefined;
    if (exact && (exact.ready === 1 || exact.filename !== exact.name)) return toOutput(exact);
    // A bare output name: prefer its first ready file, else report the pending placeholder.
    const ready = this.#hot.readyOutputByName.get(filenameOrName) as Selectable<OutputsTable> | undefined;
    if (ready) return toOutput(ready);
    return exact ? toOutput(exact) : undefined;
  }

  async listExpiredOutputs(cutoff: string, limit: number): Promise<OutputRecord[]> {
    const rows = await this.#db
      .selectFrom('outputs')
      .innerJoin('runs', 'runs.id', 'outputs.run_id')
      .selectAll('outputs')
      .where('outputs.ready', '=', 1)
      .where('outputs.created_at', '<', cutoff)
      .where('runs.status', 'in', ['completed', 'failed', 'cancelled'])
      .orderBy('outputs.created_at', 'asc')
      .limit(limit)
      .execute();
    return rows.map(toOutput);
  }

  async deleteOutputRecords(outputs: OutputRecord[]): Promise<void> {
    if (outputs.length === 0) return;
    const runIds = [...new Set(outputs.map((output) => output.runId))];
    await this.#db.transaction().execute(async (trx) => {
      await trx
        .deleteFrom('outputs')
        .where(
          'filename',
          'in',
          outputs.map((output) => output.filename),
        )
        .execute();
      // The name-only placeholder would otherwise answer "the run ended without producing it".
      await trx.deleteFrom('outputs').where('run_id', 'in', runIds).where('ready', '=', 0).execute();
    });
  }

  // ---- workflows ----

  async upsertWorkflow(record: WorkflowRecord): Promise<WorkflowRecord> {
    const row: WorkflowsTable = {
      id: record.id,
      name: record.name,
      description: record.description,
      graph_json: JSON.stringify(record.graph),
      manifest_json: record.manifest == null ? null : JSON.stringify(record.manifest),
      inputs_json: record.inputsJson,
      outputs_json: record.outputsJson,
      source: record.source,
      created_at: record.createdAt,
      updated_at: record.updatedAt,
    };
    const { created_at: _createdAt, ...update } = row;
    await this.#db
      .insertInto('workflows')
      .values(row)
      .onConflict((oc) => oc.column('id').doUpdateSet(update))
      .execute();
    return (await this.getWorkflow(record.id)) ?? record;
  }

  async getWorkflow(id: string): Promise<WorkflowRecord | undefined> {
    const row = await this.#db.selectFrom('workflows').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toWorkflow(row) : undefined;
  }

  async getWorkflowByName(name: string): Promise<WorkflowRecord | undefined> {
    const row = await this.#db
      .selectFrom('workflows')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    return row ? toWorkflow(row) : undefined;
  }

  async listWorkflows(): Promise<WorkflowRecord[]> {
    const rows = await this.#db.selectFrom('workflows').selectAll().orderBy('name', 'asc').execute();
    return rows.map(toWorkflow);
  }

  async deleteWorkflow(id: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('workflows').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  // ---- api keys ----

  async insertKey(record: ApiKeyRecord): Promise<void> {
    await this.#db
      .insertInto('api_keys')
      .values({
        id: record.id,
        name: record.name,
        role: record.role,
        prefix: record.prefix,
        key_hash: record.keyHash,
        source: record.source,
        created_at: record.createdAt,
        last_used_at: record.lastUsedAt,
        revoked_at: record.revokedAt,
      })
      .onConflict((oc) => oc.column('key_hash').doUpdateSet({ revoked_at: null, role: record.role }))
      .execute();
  }

  async findKeyByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.#db
      .selectFrom('api_keys')
      .selectAll()
      .where('key_hash', '=', keyHash)
      .executeTakeFirst();
    return row ? toKey(row) : undefined;
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    const rows = await this.#db.selectFrom('api_keys').selectAll().orderBy('created_at', 'asc').execute();
    return rows.map(toKey);
  }

  async revokeKey(id: string, at: string): Promise<boolean> {
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

  async touchKey(id: string, at: string): Promise<void> {
    await this.#db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
  }

  async countUsableKeys(): Promise<number> {
    const row = await this.#db
      .selectFrom('api_keys')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('revoked_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  // ---- input files, settings ----

  async recordInputFile(file: StoredFileRef): Promise<void> {
    await this.#db
      .insertInto('input_files')
      .values({
        sha256: file.sha256,
        size: file.size,
        content_type: file.content_type,
        original_name: file.filename,
        created_at: new Date().toISOString(),
      })
      .onConflict((oc) => oc.column('sha256').doNothing())
      .execute();
  }

  async deleteInputFileRecord(sha256: string): Promise<void> {
    await this.#db.deleteFrom('input_files').where('sha256', '=', sha256).execute();
  }

  async getSetting(key: string): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom('settings')
      .select('value')
      .where('key', '=', key)
      .executeTakeFirst();
    return row?.value;
  }

  async setSettingIfAbsent(key: string, value: string): Promise<string> {
    await this.#db
      .insertInto('settings')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    return (await this.getSetting(key)) ?? value;
  }
}
