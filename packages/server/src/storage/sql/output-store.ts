import { TERMINAL_STATUSES } from 'flowscale/events';
import type { Kysely } from 'kysely';
import type { OutputRecord } from '../records';
import { toOutput, toOutputRow } from '../rows';
import type { Database } from '../schema';
import type { OutputRecordStore } from '../stores';

/** Output file records in portable SQL. */
export class SqlOutputStore implements OutputRecordStore {
  protected readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async save(record: OutputRecord): Promise<void> {
    await this.db
      .insertInto('outputs')
      .values(toOutputRow(record, new Date().toISOString()))
      .onConflict((oc) =>
        oc.column('filename').doUpdateSet((eb) => ({
          content_type: eb.ref('excluded.content_type'),
          size: eb.ref('excluded.size'),
          storage_key: eb.ref('excluded.storage_key'),
          ready: eb.ref('excluded.ready'),
        })),
      )
      .execute();
  }

  async find(filenameOrName: string): Promise<OutputRecord | undefined> {
    const exact = await this.db
      .selectFrom('outputs')
      .selectAll()
      .where('filename', '=', filenameOrName)
      .executeTakeFirst();
    if (exact && (exact.ready === 1 || exact.filename !== exact.name)) return toOutput(exact);
    // A bare output name: prefer its first ready file, else report the pending placeholder.
    const ready = await this.db
      .selectFrom('outputs')
      .selectAll()
      .where('name', '=', filenameOrName)
      .where('ready', '=', 1)
      .orderBy('filename', 'asc')
      .limit(1)
      .executeTakeFirst();
    if (ready) return toOutput(ready);
    return exact ? toOutput(exact) : undefined;
  }

  async listExpired(cutoff: string, limit: number): Promise<OutputRecord[]> {
    const rows = await this.db
      .selectFrom('outputs')
      .innerJoin('runs', 'runs.id', 'outputs.run_id')
      .selectAll('outputs')
      .where('outputs.ready', '=', 1)
      .where('outputs.created_at', '<', cutoff)
      .where('runs.status', 'in', TERMINAL_STATUSES)
      .orderBy('outputs.created_at', 'asc')
      .orderBy('outputs.filename', 'asc')
      .limit(limit)
      .execute();
    return rows.map(toOutput);
  }

  async delete(outputs: OutputRecord[]): Promise<void> {
    if (outputs.length === 0) return;
    const runIds = [...new Set(outputs.map((output) => output.runId))];
    await this.db.transaction().execute(async (trx) => {
      await trx
        .deleteFrom('outputs')
        .where(
          'filename',
          'in',
          outputs.map((output) => output.filename),
        )
        .execute();
      // The name-only placeholder would otherwise answer "the run ended without producing it".
      await trx.deleteFrom('outputs').where('run_id', 'in', runIds).where('ready', '=', 0).execute();
    });
  }
}
