import { CompiledQuery, type Kysely, type RawBuilder, sql, type Transaction } from 'kysely';
import type {
  FirstEvent,
  IdempotencyClaim,
  InsertRunResult,
  ProjectLoad,
  Run,
  RunAdmission,
  RunEvent,
} from '../records';
import { newEvent, nodeIdOfPlaceholder, RUN_COLUMNS, toRunRow } from '../rows';
import type { Database, RunsTable } from '../schema';
import { SqlRunStore } from '../sql/run-store';
import type { SqlExecutor } from '../stores';

/** Postgres types of the `runs` columns, for the casts a parameter needs outside a VALUES list. */
const RUN_TYPES: Record<keyof RunsTable, string> = {
  id: 'text',
  workflow_id: 'text',
  group_id: 'text',
  status: 'text',
  inputs_json: 'json',
  output_names_json: 'json',
  outputs_json: 'json',
  progress: 'integer',
  error_json: 'json',
  graph_json: 'json',
  prompt_id: 'text',
  backend_id: 'text',
  submitted_at: 'timestamptz',
  created_at: 'timestamptz',
  started_at: 'timestamptz',
  completed_at: 'timestamptz',
  updated_at: 'timestamptz',
  project_id: 'text',
  metadata_json: 'json',
  priority: 'text',
  timeout_ms: 'integer',
  trace_context: 'text',
};

/**
 * Runs on Postgres. Everything but the insert is portable SQL (SqlRunStore). The insert is one statement
 * (claim, run, placeholders and first event as data-modifying CTEs): atomic without a transaction, and one
 * round trip instead of six, which is what bounds how many runs a second a replica can accept.
 */
export class PostgresRunStore extends SqlRunStore {
  protected override metadataText(key: string): RawBuilder<string | null> {
    return sql<string | null>`(metadata_json ->> ${key})`;
  }

  override async insert(
    run: Run,
    firstEvent: FirstEvent,
    claim?: IdempotencyClaim,
    alsoInTransaction?: (db: SqlExecutor) => Promise<void>,
    admission?: RunAdmission,
  ): Promise<InsertRunResult> {
    const data = { status: run.status, progress: run.progress, ...firstEvent.data };
    const event = newEvent(run.id, 1, firstEvent.type, data, new Date().toISOString());
    const created: InsertRunResult = { kind: 'created', run: { ...run, updatedAt: event.ts }, event };
    if (alsoInTransaction || admission?.check) {
      // The run and what must go with it (its queue job) commit together or not at all; a quota check
      // holds the project's lock until then, so racing submissions are counted one after another.
      const result = await this.db.transaction().execute(async (trx) => {
        if (admission?.check) admission.check(await lockedLoad(trx, run.projectId, admission));
        const { rows } = await insertRun(run, event, claim, admission).execute(trx);
        if (!rows[0]?.created) return undefined;
        await alsoInTransaction?.(executorOf(trx));
        return created;
      });
      if (result) return result;
      // The key was taken: the earlier run (or a conflict). A key whose run vanished is claimed below.
      const earlier = await this.#earlier(claim!, run, event, admission);
      if (earlier?.kind === 'created') await alsoInTransaction?.(executorOf(this.db));
      if (earlier) return earlier;
    }
    if (!claim) {
      await insertRun(run, event, undefined, admission).execute(this.db);
      return created;
    }
    // The primary key decides between replicas racing on one key: the loser's INSERT waits for the
    // winner's commit, then does nothing (and neither do the loser's other inserts), and the loser reads
    // the committed winner. A key deleted meanwhile (by age) is simply claimed again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const { rows } = await insertRun(run, event, claim, admission).execute(this.db);
      if (rows[0]?.created) return created;
      const earlier = await this.#earlier(claim, run, event, admission);
      if (earlier) return earlier;
    }
    throw new Error(`Idempotency key ${claim.key} could not be claimed`);
  }

  /** The outcome for a key already taken; undefined when it vanished and the insert should be tried again. */
  async #earlier(
    claim: IdempotencyClaim,
    run: Run,
    event: RunEvent,
    admission?: RunAdmission,
  ): Promise<InsertRunResult | undefined> {
    const earlier = await this.db
      .selectFrom('idempotency_keys')
      .select(['request_hash', 'run_id'])
      .where('scope', '=', claim.scope)
      .where('key', '=', claim.key)
      .executeTakeFirst();
    if (!earlier) return undefined;
    if (earlier.request_hash !== claim.requestHash) return { kind: 'conflict', runId: earlier.run_id };
    const stored = await this.get(earlier.run_id);
    if (stored) return { kind: 'replayed', run: stored };
    // The key's run no longer exists: the key now names this run (as on SQLite), if no one beat us to it.
    return this.db.transaction().execute(async (trx) => {
      const moved = await trx
        .updateTable('idempotency_keys')
        .set({ request_hash: claim.requestHash, run_id: run.id })
        .where('scope', '=', claim.scope)
        .where('key', '=', claim.key)
        .where('run_id', '=', earlier.run_id)
        .executeTakeFirst();
      if (Number(moved.numUpdatedRows) === 0) return undefined;
      await insertRun(run, event, undefined, admission).execute(trx);
      return { kind: 'created', run: { ...run, updatedAt: event.ts }, event };
    });
  }
}

/**
 * The run row (its last seq is its first event's), a pending output row per expected output name, and the
 * first event; with a claim, only if the claim went in. `created` says whether anything was inserted.
 */
function insertRun(
  run: Run,
  event: RunEvent,
  claim?: IdempotencyClaim,
  admission?: RunAdmission,
): RawBuilder<{ created: number }> {
  const row: RunsTable = { ...toRunRow(run), updated_at: event.ts };
  const columns = sql.join(RUN_COLUMNS.map((column) => sql.ref(column)));
  const values = sql.join(RUN_COLUMNS.map((column) => sql`${row[column]}::${sql.raw(RUN_TYPES[column])}`));
  const claimed = claim
    ? sql`claim as (
        insert into idempotency_keys (scope, key, request_hash, run_id, created_at)
        values (${claim.scope}, ${claim.key}, ${claim.requestHash}, ${run.id}, ${run.createdAt})
        on conflict (scope, key) do nothing
        returning run_id
      ),`
    : sql``;
  return sql<{ created: number }>`
    with ${claimed}
    new_run as (
      insert into runs (${columns}, last_seq)
      select ${values}, ${event.seq}::integer ${claim ? sql`from claim` : sql``}
      returning id
    ),
    placeholders as (
      insert into outputs (filename, name, run_id, node_id, ready, created_at)
      select expected.name, expected.name, new_run.id, expected.node_id, 0, ${run.createdAt}::timestamptz
      from new_run, unnest(${run.outputNames}::text[], ${run.outputNames.map(nodeIdOfPlaceholder)}::text[])
        as expected(name, node_id)
    ),
    first_event as (
      insert into run_events (run_id, seq, type, data_json, ts)
      select new_run.id, ${event.seq}::integer, ${event.type}, ${JSON.stringify(event.data)}::json, ${event.ts}::timestamptz
      from new_run
    )
    ${admission ? usageAdded(run.projectId, admission) : sql``}
    select count(*)::int as created from new_run`;
}

/** A CTE adding the run's usage to its project's day, only if the run went in. */
function usageAdded(projectId: string, { day, usage }: RunAdmission): RawBuilder<unknown> {
  const amounts = Object.entries(usage).filter(([, value]) => value !== 0 && Number.isFinite(value));
  return sql`, usage as (
      insert into usage_daily (project_id, day, metric, value)
      select ${projectId}, ${day}, amount.metric, amount.value
      from new_run, unnest(${amounts.map(([metric]) => metric)}::text[], ${amounts.map(([, value]) => value)}::float8[])
        as amount(metric, value)
      on conflict (project_id, day, metric) do update set value = usage_daily.value + excluded.value
    )`;
}

/**
 * The project's load, after taking its quota lock for the rest of the transaction: whoever holds it
 * counts, inserts and commits before the next submission of the project counts.
 */
async function lockedLoad(
  trx: Transaction<Database>,
  projectId: string,
  { day, dayStart }: RunAdmission,
): Promise<ProjectLoad> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${`flowscale.quota:${projectId}`}, 0))`.execute(
    trx,
  );
  const { rows } = await sql<ProjectLoad>`
    select
      (select count(*) from runs where project_id = ${projectId} and status = 'queued')::int as "queued",
      (select count(*) from runs where project_id = ${projectId} and status = 'running')::int as "running",
      (select count(*) from runs where project_id = ${projectId} and created_at >= ${dayStart}::timestamptz)::int as "created",
      coalesce((select value from usage_daily
        where project_id = ${projectId} and day = ${day} and metric = 'bytes_in'), 0)::float8 as "bytesIn"`.execute(
    trx,
  );
  return rows[0]!;
}

/** A kysely connection (or transaction) as the plain executor pg-boss takes. */
function executorOf(db: Kysely<Database>): SqlExecutor {
  return {
    executeSql: async (text, values) => ({
      rows: (await db.executeQuery(CompiledQuery.raw(text, values))).rows,
    }),
  };
}
