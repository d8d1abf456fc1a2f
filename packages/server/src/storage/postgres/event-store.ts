import { type Kysely, sql, type Transaction } from 'kysely';
import type { RunEvent, RunPatch } from '../records';
import { newEvent, toEvent, toPatchRow } from '../rows';
import type { Database, RunEventsTable, RunsTable } from '../schema';
import type { EventStore } from '../stores';
import { isWebhookEventType } from '../webhook-records';

interface PendingAppend {
  runId: string;
  type: string;
  data: Record<string, unknown>;
  patch: RunPatch;
  resolve: (event: RunEvent) => void;
  reject: (error: unknown) => void;
}

/** Keeps one transaction's parameters well below Postgres's 65,535 per statement. */
const MAX_BATCH = 1000;

export class RunNotFoundForEvent extends Error {
  constructor(runId: string) {
    super(`Cannot append an event to unknown run ${runId}`);
  }
}

/**
 * The run event log. Appends requested while a batch is being written are written together in the next
 * transaction (group commit): one transaction at a time per process keeps each run's events in request
 * order, and a busy process still commits many events per round trip.
 *
 * Across processes, the seq comes from `runs.last_seq`, bumped by the same UPDATE that applies the event's
 * patch: that UPDATE holds the run's row lock until commit, so two replicas appending to one run queue on
 * it and can neither reuse a seq nor leave a gap. Runs are locked in id order, so batches cannot deadlock.
 */
export class PostgresEventStore implements EventStore {
  readonly #db: Kysely<Database>;
  #pending: PendingAppend[] = [];
  #draining: Promise<void> | undefined;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  append(runId: string, type: string, data: Record<string, unknown>, patch: RunPatch): Promise<RunEvent> {
    return new Promise<RunEvent>((resolve, reject) => {
      this.#pending.push({ runId, type, data, patch, resolve, reject });
      this.#draining ??= this.#drain();
    });
  }

  async list(runId: string, fromSeq: number): Promise<RunEvent[]> {
    const rows = await this.#db
      .selectFrom('run_events')
      .selectAll()
      .where('run_id', '=', runId)
      .where('seq', '>=', fromSeq)
      .orderBy('seq', 'asc')
      .execute();
    return rows.map(toEvent);
  }

  /** Resolves once every append requested so far is settled. */
  async settled(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  async #drain(): Promise<void> {
    // Let the appends of the current tick join the first batch.
    await Promise.resolve();
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending.splice(0, MAX_BATCH);
        await this.#commit(batch);
      }
    } finally {
      this.#draining = undefined;
    }
  }

  async #commit(batch: PendingAppend[]): Promise<void> {
    let outcomes: Array<RunEvent | Error>;
    try {
      outcomes = await this.#db.transaction().execute((trx) => appendBatch(trx, batch));
    } catch (error) {
      for (const append of batch) append.reject(error);
      return;
    }
    for (const [index, append] of batch.entries()) {
      const outcome = outcomes[index] as RunEvent | Error;
      if (outcome instanceof Error) append.reject(outcome);
      else append.resolve(outcome);
    }
  }
}

/** The patchable `runs` columns and their Postgres types. */
const PATCH_COLUMNS: ReadonlyArray<[keyof RunsTable, string]> = [
  ['status', 'text'],
  ['outputs_json', 'json'],
  ['progress', 'integer'],
  ['error_json', 'json'],
  ['backend_id', 'text'],
  ['submitted_at', 'timestamptz'],
  ['started_at', 'timestamptz'],
  ['completed_at', 'timestamptz'],
  ['prompt_id', 'text'],
];

/** A column takes the patch's value when the patch names it (even as null), else keeps its own. */
const PATCH_ASSIGNMENTS = sql.join(
  PATCH_COLUMNS.map(
    ([column, type]) =>
      sql`${sql.ref(column)} = case when u.patch ? ${column} then (u.patch ->> ${column})::${sql.raw(type)} else ${sql.ref(`runs.${column}`)} end`,
  ),
);

/**
 * Writes one batch in a fixed number of statements, however many runs it touches: lock the runs, bump
 * their last seqs and apply their patches in one UPDATE, insert every event in one INSERT.
 */
async function appendBatch(
  trx: Transaction<Database>,
  batch: PendingAppend[],
): Promise<Array<RunEvent | Error>> {
  const ts = new Date().toISOString();
  const byRun = new Map<string, number[]>();
  for (const [index, append] of batch.entries()) {
    const indexes = byRun.get(append.runId);
    if (indexes) indexes.push(index);
    else byRun.set(append.runId, [index]);
  }
  const lastSeq = await bumpRuns(trx, batch, byRun, ts);
  const outcomes: Array<RunEvent | Error> = [];
  const rows: RunEventsTable[] = [];
  for (const [runId, indexes] of byRun) {
    const last = lastSeq.get(runId);
    for (const [offset, index] of indexes.entries()) {
      if (last === undefined) {
        outcomes[index] = new RunNotFoundForEvent(runId);
        continue;
      }
      const { type, data } = batch[index] as PendingAppend;
      const event = newEvent(runId, last - indexes.length + offset + 1, type, data, ts);
      rows.push({ run_id: runId, seq: event.seq, type, data_json: JSON.stringify(event.data), ts });
      outcomes[index] = event;
    }
  }
  if (rows.length > 0) await trx.insertInto('run_events').values(rows).execute();
  await addToOutbox(trx, rows);
  return outcomes;
}

/**
 * Outbox rows for the batch's webhook events, where an enabled endpoint of the run or of its project may
 * want them: in the events' transaction, so a crash after the commit cannot lose their webhooks.
 */
async function addToOutbox(trx: Transaction<Database>, rows: RunEventsTable[]): Promise<void> {
  const keys = rows
    .filter((row) => isWebhookEventType(row.type))
    .map((row) => ({ run_id: row.run_id, seq: row.seq }));
  if (keys.length === 0) return;
  await sql`
    insert into webhook_outbox (run_id, seq, created_at)
    select k.run_id, k.seq, ${rows[0]?.ts}::timestamptz
    from jsonb_to_recordset(${JSON.stringify(keys)}::jsonb) as k(run_id text, seq integer)
    join runs r on r.id = k.run_id
    where exists (
      select 1 from webhook_endpoints e where e.disabled_at is null
        and (e.run_id = k.run_id or (e.run_id is null and e.project_id = r.project_id)))`.execute(trx);
}

/**
 * Reserves each run's seqs and applies its merged patch; answers each existing run's new last seq. Runs
 * are locked in id order first, so two replicas' batches over the same runs cannot deadlock.
 */
async function bumpRuns(
  trx: Transaction<Database>,
  batch: PendingAppend[],
  byRun: Map<string, number[]>,
  ts: string,
): Promise<Map<string, number>> {
  const runIds = [...byRun.keys()].sort();
  if (runIds.length > 1) {
    await sql`select id from runs where id = any(${runIds}::text[]) order by id for update`.execute(trx);
  }
  const updates = runIds.map((id) => {
    const indexes = byRun.get(id) as number[];
    // Merged in request order: later patches win, as applying them one by one would.
    const { updated_at: _stampedBelow, ...patch }: Partial<RunsTable> = Object.assign(
      {},
      ...indexes.map((index) => toPatchRow((batch[index] as PendingAppend).patch, ts)),
    );
    return { id, count: indexes.length, patch };
  });
  const { rows } = await sql<{ id: string; last_seq: number }>`
    update runs set last_seq = runs.last_seq + u.count, updated_at = ${ts}::timestamptz, ${PATCH_ASSIGNMENTS}
    from jsonb_to_recordset(${JSON.stringify(updates)}::jsonb) as u(id text, count integer, patch jsonb)
    where runs.id = u.id
    returning runs.id, runs.last_seq`.execute(trx);
  return new Map(rows.map((row) => [row.id, row.last_seq]));
}
