import type { Kysely } from 'kysely';
import type { AuditEntry, AuditQuery } from '../records';
import type { Database } from '../schema';
import type { AuditStore } from '../stores';

/** The audit log in portable SQL: append-only. */
export class SqlAuditStore implements AuditStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insert(entry: AuditEntry): Promise<void> {
    await this.#db
      .insertInto('audit_log')
      .values({
        id: entry.id,
        at: entry.at,
        actor_id: entry.actorId,
        actor_name: entry.actorName,
        action: entry.action,
        target: entry.target,
        project_id: entry.projectId,
        details_json: entry.details ? JSON.stringify(entry.details) : null,
      })
      .execute();
  }

  async list(query: AuditQuery): Promise<AuditEntry[]> {
    let select = this.#db.selectFrom('audit_log').selectAll();
    if (query.before !== undefined) select = select.where('at', '<', query.before);
    if (query.action !== undefined) select = select.where('action', '=', query.action);
    const rows = await select.orderBy('at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
    return rows.map((row) => ({
      id: row.id,
      at: row.at,
      actorId: row.actor_id,
      actorName: row.actor_name,
      action: row.action,
      target: row.target,
      projectId: row.project_id,
      details: row.details_json ? JSON.parse(row.details_json) : null,
    }));
  }
}
