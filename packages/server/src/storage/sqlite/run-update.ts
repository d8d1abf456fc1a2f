import type BetterSqlite3 from 'better-sqlite3';
import type { RunsTable } from '../schema';

/**
 * `UPDATE runs` through prepared statements, one per set of changed columns (a handful exist in practice),
 * so a run update on the hot path never builds or parses SQL. (Event appends patch runs in EventAppender.)
 */
export class RunUpdater {
  readonly #sqlite: BetterSqlite3.Database;
  readonly #statements = new Map<string, BetterSqlite3.Statement>();

  constructor(sqlite: BetterSqlite3.Database) {
    this.#sqlite = sqlite;
  }

  /** Runs synchronously, so it can join the caller's better-sqlite3 transaction. */
  update(id: string, row: Partial<RunsTable>): void {
    const columns = Object.keys(row).sort();
    const signature = columns.join(',');
    let statement = this.#statements.get(signature);
    if (!statement) {
      statement = this.#sqlite.prepare(
        `UPDATE runs SET ${columns.map((c) => `${c} = @${c}`).join(', ')} WHERE id = @id`,
      );
      this.#statements.set(signature, statement);
    }
    statement.run({ ...row, id });
  }
}
