import fs from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import type { ProjectUsage } from 'flowscale';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqliteFile } from '../../src/storage/sqlite/connection';
import { formOf, startTestServer, type TestServer, tempDir, testDatabase, waitFor } from '../support/harness';
import { solidPng } from '../support/png';
import { createTestDatabase, queryDatabase } from '../support/postgres';

// Usage per project and UTC day, `GET /api/v1/usage` and its scoping, the bytes_uploaded_per_day quota,
// and quota admission under concurrency: on a real server and engine, on SQLite or (with
// FLOWSCALE_TEST_DATABASE=postgres) Postgres.

interface Envelope {
  status: string;
  // biome-ignore lint/suspicious/noExplicitAny: test reads of JSON envelopes
  data?: any;
  errors?: string;
  code?: string;
}

let server: TestServer;
const keys = { acme: '', acmeViewer: '', globex: '', quota: '' };
const today = () => new Date().toISOString().slice(0, 10);

const call = async (key: string, path: string, init: RequestInit = {}): Promise<[number, Envelope]> => {
  const response = await server.request(path, { ...init, key });
  const text = await response.text();
  return [response.status, text ? JSON.parse(text) : {}];
};
const admin = (path: string, body?: unknown, method = 'POST'): Promise<[number, Envelope]> =>
  call(server.key, path, {
    method: body === undefined ? 'GET' : method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
const submit = (key: string, workflow: string, fields: Record<string, string | Blob>, headers = {}) =>
  call(key, `/api/v1/runs?workflow_id=${workflow}`, { method: 'POST', body: formOf(fields), headers });
const finished = (key: string, id: string) =>
  waitFor(
    () => call(key, `/api/v1/runs/${id}`),
    ([, body]) => ['completed', 'failed', 'cancelled'].includes(body.data?.status),
    60_000,
  );
const usageOf = async (key: string, query = `from=${today()}&to=${today()}`) => {
  const [status, body] = await call(key, `/api/v1/usage?${query}`);
  expect(status, JSON.stringify(body)).toBe(200);
  return body.data as { from: string; to: string; projects: ProjectUsage[] };
};
const setLimits = (project: string, limits: Record<string, number>) =>
  admin(`/api/v1/admin/projects/${project}/limits`, limits, 'PUT');
const pngOf = (size: number): Blob =>
  new Blob([new Uint8Array(solidPng(size, size, [10, 20, 30]))], { type: 'image/png' });

beforeAll(async () => {
  server = await startTestServer();
  for (const name of ['acme', 'globex', 'quota'])
    expect((await admin('/api/v1/admin/projects', { name }))[0]).toBe(201);
  const make = async (name: string, role: string, project: string) => {
    const [status, body] = await admin('/api/v1/admin/keys', { name, role, project });
    expect(status).toBe(201);
    return body.data.key as string;
  };
  keys.acme = await make('acme app', 'member', 'acme');
  keys.acmeViewer = await make('acme dashboard', 'viewer', 'acme');
  keys.globex = await make('globex app', 'member', 'globex');
  keys.quota = await make('quota app', 'member', 'quota');
});
afterAll(async () => {
  await server?.close();
});

describe('usage', { timeout: 120_000 }, () => {
  it('counts runs by status, bytes in and out and execution seconds per backend, each run once', async () => {
    const image = pngOf(16);
    const [status, made] = await submit(keys.acme, 'invert-image', { image_1: image });
    expect(status).toBe(201);
    const [, done] = await finished(keys.acme, made.data.run_id);
    expect(done.data.status).toBe('completed');
    const outputBytes = (done.data.outputs as Array<{ size: number }>).reduce((sum, o) => sum + o.size, 0);
    expect(outputBytes).toBeGreaterThan(0);

    // The same Idempotency-Key and inputs: the earlier run, not a second one counted.
    const headers = { 'idempotency-key': `usage-${Date.now()}` };
    const [, text] = await submit(keys.acme, 'text-echo', { default_value_1: 'once' }, headers);
    expect((await submit(keys.acme, 'text-echo', { default_value_1: 'once' }, headers))[0]).toBe(200);
    await finished(keys.acme, text.data.run_id);
    const [, slow] = await submit(keys.acme, 'slow-delay', { default_value_1: 's', value_4: '30' });
    expect((await call(keys.acme, `/api/v1/runs/${slow.data.run_id}/cancel`, { method: 'POST' }))[0]).toBe(
      200,
    );
    await finished(keys.acme, slow.data.run_id);

    const { projects } = await usageOf(keys.acme);
    expect(projects.map((p) => p.project)).toEqual(['acme']);
    const [acme] = projects;
    expect(acme?.days).toHaveLength(1);
    expect(acme?.totals.runs).toEqual({ created: 3, completed: 2, failed: 0, cancelled: 1 });
    expect(acme?.totals.bytes_in).toBe(image.size);
    expect(acme?.totals.bytes_out).toBe(outputBytes + (await textOutputBytes(text.data.run_id)));
    const seconds = Object.values(acme?.totals.execution_seconds ?? {});
    expect(seconds.length).toBeGreaterThan(0);
    expect(seconds.every((value) => value > 0)).toBe(true);
  });

  it('scoping: a member or viewer sees its own project only; another project is a 404; an admin sees all', async () => {
    const [, run] = await submit(keys.globex, 'text-echo', { default_value_1: 'g' });
    await finished(keys.globex, run.data.run_id);

    expect((await usageOf(keys.globex)).projects.map((p) => p.project)).toEqual(['globex']);
    expect((await usageOf(keys.acmeViewer)).projects.map((p) => p.project)).toEqual(['acme']);
    expect((await usageOf(keys.acme, `project=acme&from=${today()}`)).projects).toHaveLength(1);
    for (const project of ['globex', 'no-such-project']) {
      const [status, body] = await call(keys.acme, `/api/v1/usage?project=${project}`);
      expect([status, body.code]).toEqual([404, 'PROJECT_NOT_FOUND']);
    }
    const all = (await usageOf(server.key)).projects.map((p) => p.project);
    expect(all).toEqual(expect.arrayContaining(['acme', 'globex']));
    const one = await usageOf(server.key, `project=globex&to=${today()}`);
    expect(one.projects.map((p) => p.project)).toEqual(['globex']);
    expect(one.projects[0]?.totals.runs.created).toBe(1);
  });

  it('bad days and ranges are a 400 naming the problem', async () => {
    for (const query of [
      'from=2026-02-30&to=2026-03-01',
      'from=yesterday',
      'to=2026-1-01',
      'from=2026-03-02&to=2026-03-01',
      'from=2024-01-01&to=2025-12-31',
      'from=+020260-01-01',
      'page=1',
    ]) {
      const [status, body] = await call(keys.acme, `/api/v1/usage?${query}`);
      expect(status, query).toBe(400);
      expect(body.errors, query).toBeTruthy();
    }
    expect((await usageOf(keys.acme, 'from=2025-01-01&to=2025-12-31')).projects).toEqual([]);
  });

  it('bytes_uploaded_per_day: 429 QUOTA_BYTES_PER_DAY until the next UTC day, no run, nothing counted', async () => {
    const small = pngOf(4);
    const limit = small.size * 2;
    expect((await setLimits('quota', { bytes_uploaded_per_day: limit }))[0]).toBe(200);
    expect((await submit(keys.quota, 'invert-image', { image_1: small }))[0]).toBe(201);
    const large = pngOf(12);
    expect(large.size).toBeGreaterThan(small.size);
    const refused = await server.request('/api/v1/runs?workflow_id=invert-image', {
      key: keys.quota,
      method: 'POST',
      body: formOf({ image_1: large }),
    });
    expect(refused.status).toBe(429);
    expect((await refused.json()).code).toBe('QUOTA_BYTES_PER_DAY');
    const retryAfter = Number(refused.headers.get('retry-after'));
    const tomorrow = Date.parse(`${today()}T00:00:00Z`) + 86_400_000;
    expect(retryAfter).toBeGreaterThan(0);
    expect(Math.abs(Date.now() / 1000 + retryAfter - tomorrow / 1000)).toBeLessThan(5);
    // A run that uploads nothing still fits; one that fills the allowance exactly fits; then it is used up.
    expect((await submit(keys.quota, 'text-echo', { default_value_1: 'no files' }))[0]).toBe(201);
    expect((await submit(keys.quota, 'invert-image', { image_1: pngOf(4) }))[0]).toBe(201);
    const [status, body] = await submit(keys.quota, 'text-echo', { default_value_1: 'used up' });
    expect([status, body.code]).toEqual([429, 'QUOTA_BYTES_PER_DAY']);

    const [, runs] = await call(keys.quota, '/api/v1/runs');
    expect(runs.data.count).toBe(3);
    const usage = (await usageOf(keys.quota)).projects[0];
    expect(usage?.totals.bytes_in).toBe(limit);
    expect(usage?.totals.runs.created).toBe(3);
    expect((await setLimits('quota', {}))[0]).toBe(200);
  });

  it.each([
    ['runs_per_day', 'QUOTA_RUNS_PER_DAY'],
    ['concurrent_runs', 'QUOTA_CONCURRENT_RUNS'],
  ])('20 concurrent submissions under %s 5: exactly 5 accepted, 15 refused with 429', async (quota, code) => {
    const name = `race-${quota.replaceAll('_', '-')}`;
    expect((await admin('/api/v1/admin/projects', { name }))[0]).toBe(201);
    const [, made] = await admin('/api/v1/admin/keys', {
      name: `${name} app`,
      role: 'member',
      project: name,
    });
    const key = made.data.key as string;
    expect((await setLimits(name, { [quota]: 5 }))[0]).toBe(200);
    // Runs that stay unfinished while the rest arrive. Every body is held open until all 20 requests
    // are past the early check (made before the body is read), so only the check at insert can decide.
    const gate = startGate(20);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => gatedSubmit(key, 'slow-delay', { value_4: '20' }, gate)),
    );
    const accepted = answers.filter(([status]) => status === 201);
    const refused = answers.filter(([status]) => status === 429);
    expect(accepted).toHaveLength(5);
    expect(refused).toHaveLength(15);
    expect(new Set(refused.map(([, body]) => body.code))).toEqual(new Set([code]));
    const [, runs] = await call(key, '/api/v1/runs');
    expect(runs.data.count).toBe(5);
    expect((await usageOf(key)).projects[0]?.totals.runs.created).toBe(5);
    for (const [, body] of accepted)
      await call(server.key, `/api/v1/runs/${body.data.run_id}/cancel`, { method: 'POST' });
  });
});

describe('usage across a restart', { timeout: 180_000 }, () => {
  it('a run end never counted (the process died first) is counted at the next start, and only once', async () => {
    const dataDir = tempDir('usage-restart');
    const pg = testDatabase() === 'postgres' ? await createTestDatabase('usage') : undefined;
    const start = () => startTestServer({ dataDir, ...(pg ? { databaseUrl: pg.url } : {}) });
    const forget = async (sql: string) => {
      if (pg) return void (await queryDatabase(pg.url, sql));
      const db = new BetterSqlite3(sqliteFile(dataDir));
      db.exec(sql);
      db.close();
    };
    const completedToday = async (running: TestServer) => {
      const response = await running.request(`/api/v1/usage?from=${today()}&to=${today()}`);
      expect(response.status).toBe(200);
      const body = (await response.json()) as Envelope;
      return (body.data.projects as ProjectUsage[])[0]?.totals;
    };
    try {
      let running = await start();
      const submitted = await running.api.executeWorkflow('text-echo', { default_value_1: 'restart' });
      await waitFor(
        async () => (await running.api.getRun(submitted.data.run_id)).data.status,
        (status) => status === 'completed',
        60_000,
      );
      // The record says completed as soon as the end is stored; the count follows it (same process).
      const counted = await waitFor(
        () => completedToday(running),
        (totals) => totals?.runs.completed === 1,
        30_000,
      );
      expect(counted?.runs).toEqual({ created: 1, completed: 1, failed: 0, cancelled: 0 });
      await running.close();
      // As if the process had died between writing the run's end and counting it.
      await forget("delete from usage_runs; delete from usage_daily where metric <> 'runs_created'");

      running = await start();
      const recounted = await waitFor(
        () => completedToday(running),
        (totals) => totals?.runs.completed === 1,
        30_000,
      );
      expect(recounted).toEqual(counted);
      await running.close();
      running = await start();
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await completedToday(running)).toEqual(counted);
      await running.close();
    } finally {
      await pg?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

/** The stored sizes of a run's outputs, by its record. */
async function textOutputBytes(runId: string): Promise<number> {
  const [, run] = await call(server.key, `/api/v1/runs/${runId}`);
  return (run.data.outputs as Array<{ size: number }>).reduce((sum, o) => sum + o.size, 0);
}

interface Gate {
  arrived(): void;
  open: Promise<void>;
}

/** Opens once `count` bodies have started, and a moment more for their headers to be handled. */
function startGate(count: number): Gate {
  let arrived = 0;
  let release: () => void = () => undefined;
  const open = new Promise<void>((resolve) => {
    release = resolve;
  });
  return {
    open,
    arrived() {
      if (++arrived === count) setTimeout(release, 300);
    },
  };
}

/** A multipart submission whose body ends only when the gate opens. */
async function gatedSubmit(
  key: string,
  workflow: string,
  fields: Record<string, string>,
  gate: Gate,
): Promise<[number, Envelope]> {
  const boundary = `gate${Math.random().toString(36).slice(2)}`;
  const parts = Object.entries(fields).map(
    ([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
  );
  const encoder = new TextEncoder();
  let step = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (step++ === 0) {
        controller.enqueue(encoder.encode(parts[0] ?? ''));
        gate.arrived();
        return;
      }
      await gate.open;
      controller.enqueue(encoder.encode(`${parts.slice(1).join('')}--${boundary}--\r\n`));
      controller.close();
    },
  });
  return call(key, `/api/v1/runs?workflow_id=${workflow}&group_id=race`, {
    method: 'POST',
    body,
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    duplex: 'half',
  } as RequestInit);
}
