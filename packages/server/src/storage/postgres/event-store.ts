import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { RunEvent, RunPatch } from '../records';
import { newEvent, toEvent, toPatchRow } from '../rows';
import type { Database, RunsTable } from '../schema';
import type { EventStore } from '../stores';
import { WEBHOOK_EVENT_TYPES } from '../webhook-records';

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
 * statement (group commit): one transaction at a time per process keeps each run's events in request
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
      outcomes = await withDeadlockRetry(() => appendBatch(this.#db, batch));
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

/**
 * The batch is one statement, so Postgres undoes all of it when it picks it as a deadlock victim (two
 * replicas appending to the same runs): running it again is safe.
 */
async function withDeadlockRetry<T>(write: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (attempt >= attempts || (error as { code?: unknown }).code !== '40P01') throw error;
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
 * Marks where an event's seq goes in its stored JSON, which is built here, before the seq is known.
 * Random per process, so no event data can contain it by accident.
 */
const SEQ_MARK = `\u0001seq:${randomUUID()}`;
const SEQ_MARK_JSON = JSON.stringify(SEQ_MARK);

/**
 * The event's stored JSON around its seq (`newEvent`'s shape and key order), for the statement to join
 * with the seq it reserves.
 */
function jsonAroundSeq(
  runId: string,
  type: string,
  data: Record<string, unknown>,
  ts: string,
): [string, string] {
  const shaped = newEvent(runId, 0, type, data, ts).data;
  shaped.seq = SEQ_MARK; // an existing key: it keeps its place
  const parts = JSON.stringify(shaped).split(SEQ_MARK_JSON);
  if (parts.length !== 2) throw new Error(`Event data of run ${runId} holds the seq marker`);
  return parts as [string, string];
}

/**
 * Writes one batch in one statement, however many runs it touches, so it needs no transaction of its own:
 * lock the runs in id order, bump their last seqs and apply their merged patches, insert every event with
 * its seq, and add the outbox rows for the webhook events an enabled endpoint may want (in the same
 * statement, so a crash can never keep an event and lose its webhooks).
 */
async function appendBatch(db: Kysely<Database>, batch: PendingAppend[]): Promise<Array<RunEvent | Error>> {
  const ts = new Date().toISOString();
  const byRun = new Map<string, number[]>();
  for (const [index, append] of batch.entries()) {
    const indexes = byRun.get(append.runId);
    if (indexes) indexes.push(index);
    else byRun.set(append.runId, [index]);
  }
  const runs = [...byRun.keys()].sort().map((id) => {
    const indexes = byRun.get(id) as number[];
    // Merged in request order: later patches win, as applying them one by one would.
    const { updated_at: _stampedBelow, ...patch }: Partial<RunsTable> = Object.assign(
      {},
      ...indexes.map((index) => toPatchRow((batch[index] as PendingAppend).patch, ts)),
    );
    return { id, count: indexes.length, patch };
  });
  const events = [...byRun].flatMap(([runId, indexes]) =>
    indexes.map((index, offset) => {
      const { type, data } = batch[index] as PendingAppend;
      const [head, tail] = jsonAroundSeq(runId, type, data, ts);
      return { run_id: runId, n: offset + 1, type, head, tail };
    }),
  );
  const { rows } = await sql<{ id: string; last_seq: number }>`
    with u as (
      select * from jsonb_to_recordset(${JSON.stringify(runs)}::jsonb) as u(id text, count integer, patch jsonb)
    ), locked as (
      select runs.id from runs join u on u.id = runs.id order by runs.id for update of runs
    ), bumped as (
      update runs set last_seq = runs.last_seq + u.count, updated_at = ${ts}::timestamptz, ${PATCH_ASSIGNMENTS}
      from u where runs.id = u.id and runs.id in (select id from locked)
      returning runs.id, runs.last_seq, runs.project_id, u.count
    ), e as (
      select * from jsonb_to_recordset(${JSON.stringify(events)}::jsonb)
        as e(run_id text, n integer, type text, head text, tail text)
    ), ins as (
      insert into run_events (run_id, seq, type, data_json, ts)
      select e.run_id, b.last_seq - b.count + e.n, e.type,
        (e.head || (b.last_seq - b.count + e.n)::text || e.tail)::json, ${ts}::timestamptz
      from e join bumped b on b.id = e.run_id
      returning run_id, seq, type
    ), outbox as (
      insert into webhook_outbox (run_id, seq, created_at)
      select i.run_id, i.seq, ${ts}::timestamptz from ins i join bumped b on b.id = i.run_id
      where i.type = any(${[...WEBHOOK_EVENT_TYPES]}::text[]) and exists (
        select 1 from webhook_endpoints w where w.disabled_at is null
          and (w.run_id = i.run_id or (w.run_id is null and w.project_id = b.project_id)))
    )
    select id, last_seq from bumped`.execute(db);
  const lastSeq = new Map(rows.map((row) => [row.id, Number(row.last_seq)]));
  const outcomes: Array<RunEvent | Error> = [];
  for (const [runId, indexes] of byRun) {
    const last = lastSeq.get(runId);
    for (const [offset, index] of indexes.entries()) {
      const { type, data } = batch[index] as PendingAppend;
      outcomes[index] =
        last === undefined
          ? new RunNotFoundForEvent(runId)
          : newEvent(runId, last - indexes.length + offset + 1, type, data, ts);
    }
  }
  return outcomes;
}
