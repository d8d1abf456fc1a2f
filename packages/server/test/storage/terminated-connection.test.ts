import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type PostgresConnection } from '../../src/storage/postgres/connection';
import { ADMIN_URL, createTestDatabase, queryDatabase, type TestDatabase } from '../support/postgres';

// CI once failed with an uncaught "Connection terminated unexpectedly": a connection checked out of
// the pool for a transaction has no pool listener, so its error event crashed the process. Vitest
// fails a run on any uncaught error, so this test fails without the per-client guard.
let database: TestDatabase;
let connection: PostgresConnection;
const seen: Error[] = [];

beforeAll(async () => {
  database = await createTestDatabase('terminated');
  connection = await openPostgres({
    url: database.url,
    poolSize: 2,
    onPoolError: (error) => seen.push(error),
  });
});

afterAll(async () => {
  await connection?.db.destroy();
  await database?.drop();
});

describe('a Postgres connection terminated in the middle of a transaction', () => {
  it('fails that transaction, reports the error, and the pool keeps serving', async () => {
    const transaction = connection.db.transaction().execute(async (trx) => {
      await sql`select pg_sleep(5)`.execute(trx);
    });
    const outcome = transaction.then(
      () => 'committed',
      (error: Error) => error.message,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    await queryDatabase(
      ADMIN_URL,
      'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
      [database.name],
    );
    expect(await outcome).toMatch(/terminat/i);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen.map((error) => error.message).join('\n')).toMatch(/terminat/i);
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(connection.db);
    expect(rows).toEqual([{ one: 1 }]);
  });
});
