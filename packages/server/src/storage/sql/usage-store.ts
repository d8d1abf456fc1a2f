import { type Kysely, sql } from 'kysely';
import type { UsageRow } from '../records';
import type { Database } from '../schema';
import type { UsageStore } from '../stores';

/** Per-project, per-day counters; an upsert adds to the stored value, so replicas never lose an increment. */
export class SqlUsageStore implements UsageStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async addOnce(
    runId: string,
    projectId: string,
    day: string,
    amounts: Record<string, number>,
  ): Promise<boolean> {
    // One statement, so no transaction of its own. Racing replicas: the loser's insert waits for the
    // winner's commit, then does nothing, and so adds nothing.
    const rows = usageRows(projectId, day, amounts);
    const { rows: counted } = await sql<{ n: number }>`
      with counted as (
        insert into usage_runs (run_id, project_id, counted_at)
        values (${runId}, ${projectId}, ${new Date().toISOString()})
        on conflict (run_id) do nothing
        returning run_id
      ), added as (
        insert into usage_daily (project_id, day, metric, value)
        select r.project_id, r.day, r.metric, r.value
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
          as r(project_id text, day text, metric text, value float8)
        where exists (select 1 from counted)
        on conflict (project_id, day, metric) do update set value = usage_daily.value + excluded.value
      )
      select count(*)::int as n from counted`.execute(this.#db);
    return Number(counted[0]?.n ?? 0) > 0;
  }

  async add(projectId: string, day: string, amounts: Record<string, number>): Promise<void> {
    await addAmounts(this.#db, projectId, day, amounts);
  }

  async list(from: string, to: string, projectId?: string): Promise<UsageRow[]> {
    let select = this.#db
      .selectFrom('usage_daily')
      .selectAll()
      .where('day', '>=', from)
      .where('day', '<=', to);
    if (projectId !== undefined) select = select.where('project_id', '=', projectId);
    const rows = await select.orderBy('day').orderBy('project_id').orderBy('metric').execute();
    return rows.map((row) => ({
      projectId: row.project_id,
      day: row.day,
      metric: row.metric,
      value: Number(row.value),
    }));
  }
}

/** The non-zero amounts as rows of `usage_daily`. */
export const usageRows = (projectId: string, day: string, amounts: Record<string, number>) =>
  Object.entries(amounts)
    .filter(([, value]) => value !== 0 && Number.isFinite(value))
    .map(([metric, value]) => ({ project_id: projectId, day, metric, value }));

async function addAmounts(
  db: Kysely<Database>,
  projectId: string,
  day: string,
  amounts: Record<string, number>,
): Promise<void> {
  const rows = usageRows(projectId, day, amounts);
  if (rows.length === 0) return;
  await db
    .insertInto('usage_daily')
    .values(rows)
    .onConflict((oc) =>
      oc
        .columns(['project_id', 'day', 'metric'])
        .doUpdateSet({ value: sql`usage_daily.value + excluded.value` }),
    )
    .execute();
}
