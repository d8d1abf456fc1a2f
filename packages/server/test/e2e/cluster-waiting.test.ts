import fs from 'node:fs';
import net from 'node:net';
import type { RunningEngine } from '@flowscale/engine';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  formOf,
  sleep,
  startTestEngine,
  startTestServer,
  type TestServer,
  tempDir,
  waitFor,
} from '../support/harness';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

// "Waiting for a backend: none reachable" and FLOWSCALE_QUEUE_TIMEOUT with several replicas on one
// Postgres (cluster mode, the shared queue): said and applied once per run across the replicas when no
// replica has a backend, and never while any replica has one. Always on Postgres, so not run twice.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const WAITING = 'waiting for a backend: none reachable';
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

interface Seen {
  status: string;
  waiting?: string;
  error: { message: string } | null;
}

const closedPort = async (): Promise<number> => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
};

async function fleet(options: { backends: string[][]; queueTimeoutMs: number; perBackend?: number }) {
  const database: TestDatabase = await createTestDatabase('waiting');
  const dataDir = tempDir('cluster-waiting');
  const replicas: TestServer[] = [];
  cleanups.push(async () => {
    for (const replica of replicas.reverse()) await replica.close();
    await database.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  // One at a time: the first migrates, the others find the schema in place.
  for (const comfyuiUrls of options.backends) {
    replicas.push(
      await startTestServer({
        database: 'postgres',
        databaseUrl: database.url,
        dataDir,
        comfyuiUrls,
        queueTimeoutMs: options.queueTimeoutMs,
        leaseTtlMs: 2000,
        ...(options.perBackend ? { maxRunsPerBackend: options.perBackend } : {}),
      }),
    );
  }
  return replicas;
}

const submit = async (replica: TestServer, workflow: string, fields: Record<string, string> = {}) => {
  const response = await replica.request(`/api/v1/runs?workflow_id=${workflow}`, {
    method: 'POST',
    body: formOf(fields),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { data: { run_id: string } }).data.run_id;
};
const record = async (replica: TestServer, runId: string): Promise<Seen> =>
  ((await (await replica.request(`/api/v1/runs/${runId}`)).json()) as { data: Seen }).data;
const eventsOf = async (
  replica: TestServer,
  runId: string,
): Promise<Array<{ type: string; data: string }>> => {
  const text = await (await replica.request(`/api/v1/runs/${runId}/events`)).text();
  return [...text.matchAll(/event: (.+)\ndata: (.*)/g)].map((match) => ({
    type: match[1] as string,
    data: match[2] as string,
  }));
};

describe('cluster mode: no backend reachable from any replica', () => {
  it('each queued run is told once and fails once at FLOWSCALE_QUEUE_TIMEOUT, whichever replica took it', async () => {
    const dead = [`http://127.0.0.1:${await closedPort()}`, `http://127.0.0.1:${await closedPort()}`];
    const replicas = await fleet({ backends: [dead, dead, dead], queueTimeoutMs: 4000 });
    const runIds: string[] = [];
    for (const replica of replicas) runIds.push(await submit(replica, 'text-echo'));
    runIds.push(await submit(replicas[2]!, 'text-echo'));

    // Every replica's record says why, for every run (none of them has a backend).
    for (const replica of replicas)
      for (const runId of runIds)
        await waitFor(
          () => record(replica, runId),
          (run) => run.waiting === WAITING || run.status === 'failed',
          10_000,
        );
    const [first] = replicas as [TestServer];
    for (const runId of runIds) {
      const failed = await waitFor(
        () => record(first, runId),
        (run) => run.status === 'failed',
        30_000,
      );
      expect(failed.error?.message).toBe(
        'No backend could take the run within 4000 ms (FLOWSCALE_QUEUE_TIMEOUT): none reachable',
      );
      expect(failed.waiting).toBeUndefined();
    }
    // A moment for any duplicate a second replica might write; then each run's events say it all once.
    await sleep(1500);
    for (const runId of runIds) {
      const events = await eventsOf(replicas[1]!, runId);
      const told = events.filter((event) => event.type === 'run.queued' && event.data.includes(WAITING));
      expect(told, runId).toHaveLength(1);
      expect(
        events.filter((event) => event.type === 'run.failed'),
        runId,
      ).toHaveLength(1);
      expect(events.at(-1)?.type).toBe('run.failed');
    }
  });
});

describe('cluster mode: a backend reachable from one replica only', () => {
  let engine: RunningEngine;
  afterAll(async () => {
    await engine?.close();
  });

  it('no run is said to wait or failed by the timeout on a replica without a backend', async () => {
    engine = await startTestEngine();
    const dead = `http://127.0.0.1:${await closedPort()}`;
    // Each replica lists one backend, so the leases split for certain: the first replica has the
    // engine, the second only the dead backend (and sweeps for it), and must learn of the first's.
    const [withEngine, without] = (await fleet({
      backends: [[engine.url], [dead]],
      queueTimeoutMs: 1500,
      perBackend: 1,
    })) as [TestServer, TestServer];
    await sleep(2000); // past the second replica's wait for its peers' word
    // One at a time on the engine: the third waits about 2 s, past the 1.5 s timeout.
    const runIds: string[] = [];
    for (let i = 0; i < 3; i++) runIds.push(await submit(without, 'slow-delay', { value_4: '1' }));
    const queuedViews: Seen[] = [];
    for (;;) {
      const view = await record(without, runIds[2]!);
      if (view.status !== 'queued') break;
      queuedViews.push(view);
      await sleep(100);
    }
    expect(queuedViews.length).toBeGreaterThan(3);
    expect(queuedViews.filter((view) => view.waiting !== undefined)).toEqual([]);
    for (const runId of runIds) {
      const done = await waitFor(
        () => record(withEngine, runId),
        (run) => ['completed', 'failed', 'cancelled'].includes(run.status),
        60_000,
      );
      expect(done.error).toBeNull();
      expect(done.status).toBe('completed');
      const events = await eventsOf(without, runId);
      expect(events.filter((event) => event.data.includes(WAITING))).toEqual([]);
    }
  });
});
