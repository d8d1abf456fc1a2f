import type { RunningEngine } from '@flowscale/engine';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, startTestServer, type TestServer, waitFor } from '../support/harness';
import { ADMIN_URL } from '../support/postgres';

// A Postgres outage for this server's database only (other test files share the cluster): new
// connections refused and every open one terminated, as a restart or failover does, for `ms`.
async function outage(database: string, ms: number, during: () => Promise<void>): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  const name = pg.escapeIdentifier(database);
  try {
    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [
      database,
    ]);
    const until = Date.now() + ms;
    await during();
    if (Date.now() < until) await new Promise((resolve) => setTimeout(resolve, until - Date.now()));
  } finally {
    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
    await admin.end();
  }
}

let engine: RunningEngine;
let server: TestServer;

beforeAll(async () => {
  engine = await startTestEngine();
  server = await startTestServer({ database: 'postgres', comfyuiUrls: [engine.url] });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await engine?.close();
});

describe('Postgres goes away while runs are in flight', () => {
  it('readiness goes unhealthy, and when the database is back every run completes with a gap-free log', async () => {
    const runIds: string[] = [];
    for (let index = 0; index < 4; index++) {
      const submitted = await server.api.executeWorkflow('slow-delay', {
        default_value_1: `o${index}`,
        value_4: 0.6,
      });
      runIds.push(submitted.data.run_id);
    }
    await waitFor(
      async () => (await server.api.getRun(runIds[0]!)).data.status,
      (status) => status === 'running',
    );
    const database = new URL(server.databaseUrl!).pathname.slice(1);
    await outage(database, 2500, async () => {
      const ready = await waitFor(
        async () => (await server.request('/readyz', { key: null })).status,
        (status) => status === 503,
        10_000,
      );
      expect(ready).toBe(503);
    });
    await waitFor(
      async () => (await server.request('/readyz', { key: null })).status,
      (status) => status === 200,
      20_000,
    );
    for (const [index, runId] of runIds.entries()) {
      const run = await waitFor(
        async () => (await server.api.getRun(runId)).data,
        (r) => ['completed', 'failed', 'cancelled'].includes(r.status),
        60_000,
      );
      expect([run.status, run.error]).toEqual(['completed', null]);
      expect((await server.api.getOutput(run.output_names![0]!))?.data.file_content).toBe(`o${index}`);
      const seqs: number[] = [];
      await server.api.subscribeRunEvents(runId, { onEvent: (event) => seqs.push(event.data.seq) }).done;
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    }
  }, 120_000);
});
