import fs from 'node:fs';
import { type RunningEngine, startEngine } from '@flowscale/engine';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/index';
import { sdkClient, sleep, TEST_KEY, tempDir, waitFor } from '../support/harness';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

// Two replicas on one Postgres, one engine, nobody following any run: the event relay has nothing to read.
// (Before, the queue's wake-up on finished runs subscribed to every run, so each replica read the log of
// every run of the fleet on every notice and polled each unfinished one every second: bench/cluster-
// throughput.ts measured 118,000 log reads for 1,000 runs through 3 replicas.)
let database: TestDatabase;
let engine: RunningEngine;
const replicas: RunningServer[] = [];
const dirs: string[] = [];
let logReads = 0;
const query = pg.Client.prototype.query;

beforeAll(async () => {
  database = await createTestDatabase('quiet');
  dirs.push(tempDir('quiet-engine'), tempDir('quiet-data'));
  engine = await startEngine({ port: 0, dataDir: dirs[0]!, logLevel: 'error' });
  for (let index = 0; index < 2; index++) {
    replicas.push(
      await startServer({
        port: 0,
        dataDir: dirs[1]!,
        apiKeys: [TEST_KEY],
        logLevel: 'error',
        databaseUrl: database.url,
        comfyuiUrls: [engine.url],
        // Few places on the backend: most runs wait in the queue for a finished run to wake it.
        maxRunsPerBackend: 2,
      }),
    );
  }
  // Counts the statements that read the shared event log, from either replica (both run in this process).
  pg.Client.prototype.query = function counted(this: pg.Client, config: unknown, ...rest: unknown[]) {
    const text = typeof config === 'string' ? config : (config as { text?: string } | null)?.text;
    if (text && /from "run_events"/i.test(text)) logReads++;
    return (query as (...args: unknown[]) => unknown).call(this, config, ...rest);
  } as typeof query;
}, 60_000);

afterAll(async () => {
  pg.Client.prototype.query = query;
  for (const replica of replicas) await replica.close();
  await engine?.close();
  await database?.drop();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('replicas with no subscribers', () => {
  it('place and finish every run without reading the event log', async () => {
    const apis = replicas.map((replica) => sdkClient(replica.url, TEST_KEY));
    const submitted = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        apis[index % 2]!.executeWorkflow('text-echo', { default_value_1: `quiet ${index}` }),
      ),
    );
    const ids = submitted.map((response) => response.data.run_id);
    const runs = await waitFor(
      () => Promise.all(ids.map(async (id) => (await apis[0]!.getRun(id)).data.status)),
      (statuses) => statuses.every((status) => status === 'completed'),
      60_000,
    );
    expect(runs).toHaveLength(12);
    await sleep(2500); // more than two of the relay's one-second polls
    expect(logReads).toBe(0);
  });
});
