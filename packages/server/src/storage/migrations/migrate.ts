import { type Kysely, type Migration, Migrator } from 'kysely';

/** Applies every migration not yet recorded in the database; a no-op when it is up to date. */
export async function migrateToLatest(
  db: Kysely<unknown>,
  migrations: Record<string, Migration>,
): Promise<void> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((result) => result.status === 'Error');
  if (error || failed) {
    const reason = error instanceof Error ? `: ${error.message}` : '';
    throw new Error(`Database migration failed${failed ? ` at ${failed.migrationName}` : ''}${reason}`, {
      cause: error,
    });
  }
}
