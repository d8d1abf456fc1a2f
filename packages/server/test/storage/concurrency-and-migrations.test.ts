import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqliteMigrations } from '../../src/storage/migrations/sqlite';
import { openStores } from '../../src/storage/open-stores';
import type { InsertRunResult, RunEvent } from '../../src/storage/records';
import type { Stores } from '../../src/storage/stores';
import { tempDir } from '../support/harness';
import { createTestDatabase, queryDatabase, type TestDatabase } from '../support/postgres';
import { DATABASES, makeRun, queued, useDatabase } from './databases';

describe.each(DATABASES)('several store instances on one %s database', (kind) => {
  const database = useDatabase(kind);

  it('concurrent inserts under one idempotency key, from two instances, create exactly one run', async () => {
    const [a, b] = [await database.open(), await database.open()];
    const claim = { scope: 'key-1', key: 'race', requestHash: 'same-request' };
    const attempts: Array<Promise<InsertRunResult>> = [];
    for (let index = 0; index < 12; index++)
      attempts.push((index % 2 ? a : b).runs.insert(makeRun(), queued, claim));
    const results = await Promise.all(attempts);
    const created = results.filter((result) => result.kind === 'created');
    expect(created).toHaveLength(1);
    const winner = created[0]!.kind === 'created' ? created[0]!.run.id : '';
    for (const result of results) {
      if (result.kind === 'replayed') expect(result.run.id).toBe(winner);
      else expect(result.kind).toBe('created');
    }
    expect(await database.rows('runs')).toHaveLength(1);
    expect(await database.rows('run_events')).toHaveLength(1);
  });

  it("a run's end counted from two instances, ten times at once, is added once", async () => {
    const [a, b] = [await database.open(), await database.open()];
    const amounts = { runs_completed: 1, bytes_out: 2048, 'execution_seconds:gpu-1': 1.5 };
    const attempts = Array.from({ length: 10 }, (_, index) =>
      (index % 2 ? a : b).usage.addOnce('run-1', 'p1', '2026-12-07', amounts),
    );
    expect((await Promise.all(attempts)).filter(Boolean)).toHaveLength(1);
    const rows = await a.usage.list('2026-12-07', '2026-12-07', 'p1');
    expect(Object.fromEntries(rows.map((row) => [row.metric, row.value]))).toEqual(amounts);
  });

  it('quota admission from two instances at once: a limit of 5 lets exactly 5 of 12 runs in, counted', async () => {
    const [a, b] = [await database.open(), await database.open()];
    const day = { day: '2026-12-07', dayStart: '2026-12-07T00:00:00.000Z' };
    const check = (load: { created: number }) => {
      if (load.created >= 5) throw new Error('over');
    };
    const attempts = Array.from({ length: 12 }, (_, index) =>
      (index % 2 ? a : b).runs.insert(
        { ...makeRun(), projectId: 'p1', createdAt: '2026-12-07T10:00:00.000Z' },
        queued,
        undefined,
        undefined,
        { ...day, usage: { runs_created: 1, bytes_in: 10 }, check },
      ),
    );
    const results = await Promise.allSettled(attempts);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(5);
    expect(await database.rows('runs')).toHaveLength(5);
    const rows = await a.usage.list('2026-12-07', '2026-12-07', 'p1');
    expect(Object.fromEntries(rows.map((row) => [row.metric, row.value]))).toEqual({
      bytes_in: 50,
      runs_created: 5,
    });
  });

  it('migrations are re-runnable: opening an up-to-date database again changes nothing and keeps the data', async () => {
    const first = await database.open();
    const run = makeRun();
    await first.runs.insert(run, queued);
    const applied = await database.rows('kysely_migration');
    await first.close();
    const again = await database.open();
    expect(await database.rows('kysely_migration')).toEqual(applied);
    expect(applied.map((row) => row.name)).toEqual(
      kind === 'sqlite'
        ? [
            '0001_initial',
            '0002_idempotency_created',
            '0003_projects',
            '0004_webhooks',
            '0006_priority',
            '0007_usage',
            '0008_trace_context',
            '0009_webhook_outbox',
          ]
        : [
            '0001_initial',
            '0002_cluster',
            '0003_projects',
            '0004_webhooks',
            '0006_priority',
            '0007_usage',
            '0008_trace_context',
            '0009_webhook_outbox',
          ],
    );
    expect((await again.runs.get(run.id))?.id).toBe(run.id);
  });
});

describe('several store instances on one postgres database', () => {
  const database = useDatabase('postgres');

  it('two instances appending to one run at once: no duplicate seq, no gap, each in its own request order', async () => {
    const [a, b] = [await database.open(), await database.open()];
    const run = makeRun();
    await a.runs.insert(run, queued);
    const fromA: Array<Promise<RunEvent>> = [];
    const fromB: Array<Promise<RunEvent>> = [];
    // Several ticks of several appends each, so both processes hold batches in flight at the same time.
    for (let tick = 0; tick < 10; tick++) {
      for (let index = 0; index < 15; index++) {
        fromA.push(a.events.append(run.id, 'node.progress', { from: 'a', n: fromA.length }, { progress: 1 }));
        fromB.push(b.events.append(run.id, 'node.progress', { from: 'b', n: fromB.length }, { progress: 2 }));
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    const [eventsA, eventsB] = await Promise.all([Promise.all(fromA), Promise.all(fromB)]);
    const seqs = [...eventsA, ...eventsB].map((event) => event.seq).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 300 }, (_, index) => index + 2));
    const increasing = (events: RunEvent[]) =>
      events.every((event, i) => i === 0 || event.seq > events[i - 1]!.seq);
    expect(increasing(eventsA)).toBe(true);
    expect(increasing(eventsB)).toBe(true);
    const stored = await a.events.list(run.id, 1);
    expect(stored.map((event) => event.seq)).toEqual(Array.from({ length: 301 }, (_, index) => index + 1));
    expect(stored.slice(1)).toEqual([...eventsA, ...eventsB].sort((x, y) => x.seq - y.seq));
    expect((await database.rows('runs'))[0]).toMatchObject({ last_seq: 301 });
  });

  it('two instances appending to the same twenty runs in opposite orders, in batches spanning runs: no error, every run gap-free', async () => {
    const [a, b] = [await database.open(), await database.open()];
    const runs = Array.from({ length: 20 }, () => makeRun());
    for (const run of runs) await a.runs.insert(run, queued);
    const appends: Array<Promise<RunEvent>> = [];
    for (let tick = 0; tick < 8; tick++) {
      // Each instance walks the runs in its own order, so their batches would lock in opposite orders.
      for (const run of runs) appends.push(a.events.append(run.id, 'x', {}, { progress: tick }));
      for (const run of [...runs].reverse())
        appends.push(b.events.append(run.id, 'y', {}, { progress: tick }));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(appends);
    for (const run of runs) {
      const seqs = (await a.events.list(run.id, 1)).map((event) => event.seq);
      expect(seqs).toEqual(Array.from({ length: 17 }, (_, index) => index + 1));
    }
  });

  it('an append to an unknown run fails alone: the rest of its batch is stored', async () => {
    const stores = await database.open();
    const run = makeRun();
    await stores.runs.insert(run, queued);
    const [good, bad, alsoGood] = await Promise.allSettled([
      stores.events.append(run.id, 'x', {}, {}),
      stores.events.append('no-such-run', 'x', {}, {}),
      stores.events.append(run.id, 'y', {}, {}),
    ]);
    expect(good).toMatchObject({ status: 'fulfilled', value: { seq: 2 } });
    expect(alsoGood).toMatchObject({ status: 'fulfilled', value: { seq: 3 } });
    expect(bad).toMatchObject({
      status: 'rejected',
      reason: { message: 'Cannot append an event to unknown run no-such-run' },
    });
  });
});

describe('postgres: replicas starting together on a new database', () => {
  let fresh: TestDatabase;
  const opened: Stores[] = [];
  beforeAll(async () => {
    fresh = await createTestDatabase('migrate');
  });
  afterAll(async () => {
    for (const stores of opened) await stores.close();
    await fresh.drop();
  });

  it('all migrate it at once without error; the schema is created exactly once', async () => {
    const config = { dataDir: tempDir('unused'), databaseUrl: fresh.url, databasePoolSize: 2 };
    const starts = await Promise.allSettled([openStores(config), openStores(config), openStores(config)]);
    for (const start of starts) if (start.status === 'fulfilled') opened.push(start.value);
    expect(starts.map((start) => (start.status === 'rejected' ? String(start.reason) : 'ok'))).toEqual([
      'ok',
      'ok',
      'ok',
    ]);
    expect(await queryDatabase(fresh.url, 'select name from kysely_migration order by name')).toEqual([
      { name: '0001_initial' },
      { name: '0002_cluster' },
      { name: '0003_projects' },
      { name: '0004_webhooks' },
      { name: '0006_priority' },
      { name: '0007_usage' },
      { name: '0008_trace_context' },
      { name: '0009_webhook_outbox' },
    ]);
    await opened[0]!.settings.setIfAbsent('k', 'v');
    expect(await opened[2]!.settings.get('k')).toBe('v');
  });
});

describe('sqlite: a data dir from before the split', () => {
  it('recorded only 0001_initial (as shipped); opening it applies the newer migrations and keeps its rows', async () => {
    const dataDir = tempDir('old-sqlite');
    const sqlite = new BetterSqlite3(path.join(dataDir, 'flowscale.db'));
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: sqlite }) });
    const migrator = new Migrator({ db, provider: { getMigrations: async () => sqliteMigrations } });
    expect((await migrator.migrateTo('0001_initial')).error).toBeUndefined();
    sqlite.prepare("insert into settings (key, value) values ('url_signing_secret', 'old-secret')").run();
    await db.destroy();

    const stores = await openStores({ dataDir, databaseUrl: undefined, databasePoolSize: 1 });
    try {
      expect(await stores.settings.get('url_signing_secret')).toBe('old-secret');
      const check = new BetterSqlite3(path.join(dataDir, 'flowscale.db'), { readonly: true });
      const names = check.prepare('select name from kysely_migration order by name').all();
      const index = check
        .prepare("select name from sqlite_master where name = 'idempotency_keys_created'")
        .get();
      check.close();
      expect(names).toEqual([
        { name: '0001_initial' },
        { name: '0002_idempotency_created' },
        { name: '0003_projects' },
        { name: '0004_webhooks' },
        { name: '0006_priority' },
        { name: '0007_usage' },
        { name: '0008_trace_context' },
        { name: '0009_webhook_outbox' },
      ]);
      expect(index).toEqual({ name: 'idempotency_keys_created' });
    } finally {
      await stores.close();
    }
  });
});
