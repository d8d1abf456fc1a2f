import type { Kysely } from 'kysely';
import type { StoredFileRef } from '../records';
import type { Database } from '../schema';
import type { InputFileRecordStore } from '../stores';

/** Which uploaded input files exist (by content hash); the bytes live in a blob store. */
export class SqlInputFileRecordStore implements InputFileRecordStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async record(file: StoredFileRef): Promise<void> {
    await this.#db
      .insertInto('input_files')
      .values({
        sha256: file.sha256,
        size: file.size,
        content_type: file.content_type,
        original_name: file.filename,
        created_at: new Date().toISOString(),
      })
      .onConflict((oc) => oc.column('sha256').doNothing())
      .execute();
  }

  async delete(sha256: string): Promise<void> {
    await this.#db.deleteFrom('input_files').where('sha256', '=', sha256).execute();
  }
}
