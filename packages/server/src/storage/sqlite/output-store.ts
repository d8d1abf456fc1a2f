import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { OutputRecord, Run } from '../records';
import { nodeIdOfPlaceholder, toOutput, toOutputRow } from '../rows';
import type { Database, OutputsTable } from '../schema';
import { SqlOutputStore } from '../sql/output-store';

/** Output records; saving and finding (once per output, and on every download) use prepared statements. */
export class SqliteOutputStore extends SqlOutputStore {
  readonly #upsert: BetterSqlite3.Statement;
  readonly #byFilename: BetterSqlite3.Statement;
  readonly #readyByName: BetterSqlite3.Statement;
  readonly #placeholder: BetterSqlite3.Statement;

  constructor(db: Kysely<Database>, sqlite: BetterSqlite3.Database) {
    super(db);
    this.#upsert = sqlite.prepare(
      `INSERT INTO outputs (filename, name, run_id, node_id, content_type, size, storage_key, ready, created_at)
       VALUES (@filename, @name, @run_id, @node_id, @content_type, @size, @storage_key, @ready, @created_at)
       ON CONFLICT (filename) DO UPDATE SET content_type = excluded.content_type, size = excluded.size,
         storage_key = excluded.storage_key, ready = excluded.ready`,
    );
    this.#byFilename = sqlite.prepare('SELECT * FROM outputs WHERE filename = ?');
    this.#readyByName = sqlite.prepare(
      'SELECT * FROM outputs WHERE name = ? AND ready = 1 ORDER BY filename ASC LIMIT 1',
    );
    this.#placeholder = sqlite.prepare(
      `INSERT INTO outputs (filename, name, run_id, node_id, content_type, size, storage_key, ready, created_at)
       VALUES (@name, @name, @run_id, @node_id, NULL, NULL, NULL, 0, @created_at)`,
    );
  }

  override async save(record: OutputRecord): Promise<void> {
    this.#upsert.run(toOutputRow(record, new Date().toISOString()));
  }

  override async find(filenameOrName: string): Promise<OutputRecord | undefined> {
    const exact = this.#byFilename.get(filenameOrName) as OutputsTable | undefined;
    if (exact && (exact.ready === 1 || exact.filename !== exact.name)) return toOutput(exact);
    // A bare output name: prefer its first ready file, else report the pending placeholder.
    const ready = this.#readyByName.get(filenameOrName) as OutputsTable | undefined;
    if (ready) return toOutput(ready);
    return exact ? toOutput(exact) : undefined;
  }

  /** A pending row per expected output name, inside the run insert's transaction. */
  insertPlaceholdersNow(run: Run): void {
    for (const name of run.outputNames) {
      this.#placeholder.run({
        name,
        run_id: run.id,
        node_id: nodeIdOfPlaceholder(name),
        created_at: run.createdAt,
      });
    }
  }
}
