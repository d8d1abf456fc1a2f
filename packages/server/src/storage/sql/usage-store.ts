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
    // Racing replicas: the loser's insert waits for the winner's commit, then does nothing.
    return this.#db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('usage_runs')
        .values({ run_id: runId, project_id: projectId, counted_at: new Date().toISOString() })
        .onConflict((oc) => oc.column('run_id').doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return false;
      await addAmounts(trx, projectId, day, amounts);
      return true;
    });
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
