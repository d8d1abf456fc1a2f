import type { Kysely, Selectable } from 'kysely';
import type { ProjectRecord } from '../records';
import type { Database, ProjectsTable } from '../schema';
import type { ProjectStore } from '../stores';

const toProject = (row: Selectable<ProjectsTable>): ProjectRecord => ({
  id: row.id,
  name: row.name,
  limits: row.limits_json ? JSON.parse(row.limits_json) : null,
  createdAt: row.created_at,
});

/** Projects (tenants) in portable SQL; few, read rarely, cached above this in the project service. */
export class SqlProjectStore implements ProjectStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insert(record: ProjectRecord): Promise<boolean> {
    const result = await this.#db
      .insertInto('projects')
      .values({
        id: record.id,
        name: record.name,
        limits_json: record.limits ? JSON.stringify(record.limits) : null,
        created_at: record.createdAt,
      })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async list(): Promise<ProjectRecord[]> {
    const rows = await this.#db
      .selectFrom('projects')
      .selectAll()
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toProject);
  }

  async find(idOrName: string): Promise<ProjectRecord | undefined> {
    // By id first: a name can never shadow another project's id.
    const byId = await this.#db
      .selectFrom('projects')
      .selectAll()
      .where('id', '=', idOrName)
      .executeTakeFirst();
    const row =
      byId ??
      (await this.#db.selectFrom('projects').selectAll().where('name', '=', idOrName).executeTakeFirst());
    return row ? toProject(row) : undefined;
  }

  async setLimits(id: string, limits: Record<string, number> | null): Promise<boolean> {
    const result = await this.#db
      .updateTable('projects')
      .set({ limits_json: limits ? JSON.stringify(limits) : null })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}
