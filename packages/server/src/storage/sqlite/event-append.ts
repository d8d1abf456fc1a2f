import type BetterSqlite3 from 'better-sqlite3';
import type { RunEventsTable, RunsTable } from '../schema';

const COLUMN = /^[a-z_]+$/;

/**
 * Appends an event and applies its run patch in ONE statement: an INSERT into a temporary view whose
 * INSTEAD OF trigger inserts the event and updates the run. A statement is atomic with its triggers, so a
 * lone append needs no BEGIN and COMMIT around it: one statement instead of four (the SQLite counterpart of
 * the Postgres store's single-statement writes). As RunUpdater does for updates, there is one view per set
 * of patched columns (a handful exist), made on first use; temporary objects live on this connection only
 * and need no migration.
 */
export class EventAppender {
  readonly #sqlite: BetterSqlite3.Database;
  readonly #statements = new Map<string, BetterSqlite3.Statement>();

  constructor(sqlite: BetterSqlite3.Database) {
    this.#sqlite = sqlite;
  }

  /**
   * Runs synchronously, alone (atomic by itself) or inside the caller's better-sqlite3 transaction. With
   * `outbox`, the same statement records the event in the webhook outbox when an enabled endpoint of the
   * run or of its project may want it.
   */
  append(event: RunEventsTable, patch: Partial<RunsTable>, outbox = false): void {
    const columns = Object.keys(patch)
      .filter((column) => column !== 'updated_at')
      .sort();
    const signature = columns.join(',');
    let statement = this.#statements.get(signature);
    if (!statement) {
      statement = this.#prepare(columns);
      this.#statements.set(signature, statement);
    }
    const values: Record<string, unknown> = { ...event, outbox: outbox ? 1 : 0 };
    for (const column of columns) values[`p_${column}`] = patch[column as keyof RunsTable];
    statement.run(values);
  }

  #prepare(columns: string[]): BetterSqlite3.Statement {
    for (const column of columns) if (!COLUMN.test(column)) throw new Error(`bad run column ${column}`);
    // The name changes with the trigger's body: a connection never keeps an older view of another shape.
    const name = `fs_append_event_v2${columns.map((column) => `__${column}`).join('')}`;
    const patched = columns.map((column) => `p_${column}`);
    const viewColumns = ['run_id', 'seq', 'type', 'data_json', 'ts', 'outbox', ...patched];
    const sets = ['updated_at = NEW.ts', ...columns.map((column) => `${column} = NEW.p_${column}`)];
    // The tables unqualified: a TEMP trigger finds them in the main database (it refuses a qualified name).
    this.#sqlite.exec(`
      CREATE TEMP VIEW IF NOT EXISTS ${name} AS SELECT ${viewColumns.map((column) => `NULL AS ${column}`).join(', ')};
      CREATE TEMP TRIGGER IF NOT EXISTS ${name}_append INSTEAD OF INSERT ON ${name} BEGIN
        INSERT INTO run_events (run_id, seq, type, data_json, ts)
          VALUES (NEW.run_id, NEW.seq, NEW.type, NEW.data_json, NEW.ts);
        UPDATE runs SET ${sets.join(', ')} WHERE id = NEW.run_id;
        INSERT INTO webhook_outbox (run_id, seq, created_at)
          SELECT NEW.run_id, NEW.seq, NEW.ts WHERE NEW.outbox = 1 AND EXISTS (
            SELECT 1 FROM webhook_endpoints e WHERE e.disabled_at IS NULL AND (e.run_id = NEW.run_id
              OR (e.run_id IS NULL AND e.project_id = (SELECT project_id FROM runs WHERE id = NEW.run_id))));
      END;`);
    return this.#sqlite.prepare(
      `INSERT INTO temp.${name} (${viewColumns.join(', ')}) VALUES (${viewColumns.map((c) => `@${c}`).join(', ')})`,
    );
  }
}
