import type { Kysely, RawBuilder } from 'kysely';
import type {
  FirstEvent,
  IdempotencyClaim,
  InsertRunResult,
  ProjectLoad,
  Run,
  RunAdmission,
  RunListQuery,
  RunPatch,
} from '../records';
import { toPatchRow, toRun } from '../rows';
import type { Database } from '../schema';
import type { RunStore, SqlExecutor } from '../stores';

/** Run reads and updates in portable SQL; each database supplies the atomic insert (and may speed up the rest). */
export abstract class SqlRunStore implements RunStore {
  protected readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  abstract insert(
    run: Run,
    firstEvent: FirstEvent,
    claim?: IdempotencyClaim,
    alsoInTransaction?: (db: SqlExecutor) => Promise<void>,
    admission?: RunAdmission,
  ): Promise<InsertRunResult>;

  /**
   * A top-level metadata value as text, the same on both databases: a string as itself, a number or
   * boolean as its JSON text, a missing key as NULL. The key is checked by the caller (letters, digits,
   * `_`, `-`).
   */
  protected abstract metadataText(key: string): RawBuilder<string | null>;

  async get(id: string): Promise<Run | undefined> {
    const row = await this.db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRun(row) : undefined;
  }

  async list(query: RunListQuery): Promise<{ runs: Run[]; total: number }> {
    let base = this.db.selectFrom('runs');
    if (query.groupId !== undefined) base = base.where('group_id', '=', query.groupId);
    if (query.statuses?.length) base = base.where('status', 'in', query.statuses);
    if (query.workflowId !== undefined) base = base.where('workflow_id', '=', query.workflowId);
    if (query.createdAfter !== undefined) base = base.where('created_at', '>=', query.createdAfter);
    if (query.createdBefore !== undefined) base = base.where('created_at', '<', query.createdBefore);
    if (query.projectId !== undefined) base = base.where('project_id', '=', query.projectId);
    for (const [key, value] of query.metadata ?? []) base = base.where(this.metadataText(key), '=', value);
    const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    // NULLs (a run not started yet) sort as the smallest value, as SQLite does; Postgres needs telling.
    const rows = await base
      .selectAll()
      .orderBy(query.sortBy, (ob) =>
        query.sortOrder === 'asc' ? ob.asc().nullsFirst() : ob.desc().nullsLast(),
      )
      .orderBy('id', query.sortOrder)
      .limit(query.pageSize)
      .offset((query.page - 1) * query.pageSize)
      .execute();
    return { runs: rows.map(toRun), total: Number(total.n) };
  }

  async listUnfinished(backendIds?: readonly string[]): Promise<Run[]> {
    if (backendIds?.length === 0) return [];
    let query = this.db.selectFrom('runs').selectAll().where('status', 'in', ['queued', 'running']);
    if (backendIds) query = query.where('backend_id', 'in', [...backendIds]);
    const rows = await query.orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
    return rows.map(toRun);
  }

  async update(id: string, patch: RunPatch): Promise<void> {
    await this.db
      .updateTable('runs')
      .set(toPatchRow(patch, new Date().toISOString()))
      .where('id', '=', id)
      .execute();
  }

  async claim(id: string, backendId: string): Promise<boolean> {
    // One UPDATE: on Postgres a racing writer waits for the row lock and then re-checks the WHERE, so
    // exactly one of several replicas (or a cancel) wins.
    const result = await this.db
      .updateTable('runs')
      .set({ backend_id: backendId, submitted_at: null, updated_at: new Date().toISOString() })
      .where('id', '=', id)
      .where('status', 'in', ['queued', 'running'])
      .where('backend_id', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async projectLoad(projectId: string, dayStart: string, day: string): Promise<ProjectLoad> {
    const count = (status: 'queued' | 'running') =>
      this.db
        .selectFrom('runs')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('project_id', '=', projectId)
        .where('status', '=', status)
        .executeTakeFirstOrThrow();
    const [queued, running, created, bytesIn] = await Promise.all([
      count('queued'),
      count('running'),
      this.db
        .selectFrom('runs')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('project_id', '=', projectId)
        .where('created_at', '>=', dayStart)
        .executeTakeFirstOrThrow(),
      this.db
        .selectFrom('usage_daily')
        .select('value')
        .where('project_id', '=', projectId)
        .where('day', '=', day)
        .where('metric', '=', 'bytes_in')
        .executeTakeFirst(),
    ]);
    return {
      queued: Number(queued.n),
      running: Number(running.n),
      created: Number(created.n),
      bytesIn: Number(bytesIn?.value ?? 0),
    };
  }

  async listEndedUncounted(since: string, limit: number): Promise<Run[]> {
    const rows = await this.db
      .selectFrom('runs')
      .selectAll()
      .where('created_at', '>=', since)
      .where('status', 'in', ['completed', 'failed', 'cancelled'])
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('usage_runs').select('run_id').whereRef('usage_runs.run_id', '=', 'runs.id'))),
      )
      .orderBy('created_at')
      .limit(limit)
      .execute();
    return rows.map(toRun);
  }

  async countByStatus(): Promise<Record<string, number>> {
    const rows = await this.db
      .selectFrom('runs')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute();
    return Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]));
  }
}
