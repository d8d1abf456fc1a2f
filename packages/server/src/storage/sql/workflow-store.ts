import type { Kysely } from 'kysely';
import type { WorkflowRecord } from '../records';
import { toWorkflow, toWorkflowRow } from '../rows';
import type { Database } from '../schema';
import type { WorkflowStore } from '../stores';

/** Deployed workflows in portable SQL (off the hot path: read once at start, written on deploy). */
export class SqlWorkflowStore implements WorkflowStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async upsert(record: WorkflowRecord): Promise<WorkflowRecord> {
    const row = toWorkflowRow(record);
    const { created_at: _createdAt, ...update } = row;
    await this.#db
      .insertInto('workflows')
      .values(row)
      .onConflict((oc) => oc.column('id').doUpdateSet(update))
      .execute();
    return (await this.get(record.id)) ?? record;
  }

  async get(id: string): Promise<WorkflowRecord | undefined> {
    const row = await this.#db.selectFrom('workflows').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toWorkflow(row) : undefined;
  }

  async getByName(name: string): Promise<WorkflowRecord | undefined> {
    const row = await this.#db
      .selectFrom('workflows')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    return row ? toWorkflow(row) : undefined;
  }

  async list(): Promise<WorkflowRecord[]> {
    const rows = await this.#db.selectFrom('workflows').selectAll().orderBy('name', 'asc').execute();
    return rows.map(toWorkflow);
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('workflows').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
