import type { RunningEngine } from '@flowscale/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formOf, startTestEngine, startTestServer, type TestServer, waitFor } from '../support/harness';

// One engine and one run at a time on it, so every other run waits in the server's own queue (pg-boss
// on Postgres, the run service's in-process queue on SQLite): the order they leave it is observable.
describe.each(['sqlite', 'postgres'] as const)('run priority and timeout (%s)', (database) => {
  let engine: RunningEngine;
  let server: TestServer;

  beforeAll(async () => {
    engine = await startTestEngine();
    server = await startTestServer({ database, comfyuiUrls: [engine.url], maxRunsPerBackend: 1 });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await engine?.close();
  });

  async function submit(query: string, fields: Record<string, string>): Promise<Response> {
    return server.request(`/api/v1/runs?workflow_id=slow-delay${query}`, {
      method: 'POST',
      body: formOf(fields),
    });
  }

  async function submitted(query: string, fields: Record<string, string>): Promise<string> {
    const response = await submit(query, fields);
    expect(response.status, await response.clone().text()).toBe(201);
    return ((await response.json()) as { data: { run_id: string } }).data.run_id;
  }

  const runOf = async (id: string) => (await server.api.getRun(id)).data;
  const finished = (id: string) =>
    waitFor(
      () => runOf(id),
      (run) => ['completed', 'failed', 'cancelled'].includes(run.status),
      60_000,
    );

  it('takes waiting runs high, then normal, then low, whatever order they came in', async () => {
    const busy = await submitted('', { default_value_1: 'busy', value_4: '1.5' });
    await waitFor(
      () => runOf(busy),
      (run) => run.status === 'running',
    );
    const low = await submitted('&priority=low', { default_value_1: 'low', value_4: '0.2' });
    const normal = await submitted('', { default_value_1: 'normal', value_4: '0.2' });
    const high = await submitted('', { default_value_1: 'high', value_4: '0.2', priority: 'high' });
    const runs = await Promise.all([busy, low, normal, high].map(finished));
    for (const run of runs) expect(run.status).toBe('completed');
    const [, lowRun, normalRun, highRun] = runs as Array<Record<string, unknown>>;
    expect([lowRun!.priority, normalRun!.priority, highRun!.priority]).toEqual(['low', 'normal', 'high']);
    const started = (run: Record<string, unknown>) => Date.parse(run.started_at as string);
    expect(started(highRun!)).toBeLessThan(started(normalRun!));
    expect(started(normalRun!)).toBeLessThan(started(lowRun!));
  }, 120_000);

  it('refuses an unknown priority or an out-of-range timeout with a 400 naming it', async () => {
    for (const [query, fields, named] of [
      ['&priority=urgent', {}, 'priority'],
      ['', { priority: 'HIGH' }, 'priority'],
      ['&timeout=0', {}, 'timeout'],
      ['', { timeout: '86400001' }, 'timeout'],
      ['&timeout=1.5', {}, 'timeout'],
    ] as const) {
      const response = await submit(query, { default_value_1: 'x', value_4: '0.1', ...fields });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { errors: string }).errors).toContain(named);
    }
  });

  it('fails a run that outlives its timeout, interrupts it and frees the backend', async () => {
    const slow = await submitted('&timeout=1500', { default_value_1: 'slow', value_4: '60' });
    const next = await submitted('', { default_value_1: 'next', value_4: '0.1' });
    const failed = await finished(slow);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'RUN_TIMED_OUT', message: 'Run timed out after 1500 ms' });
    expect((failed as unknown as { timeout_ms: number }).timeout_ms).toBe(1500);
    // The 60 s delay was interrupted on the engine: the next run completes long before it would end.
    const after = await finished(next);
    expect(after.status).toBe('completed');
    const queue = (await (await fetch(`${engine.url}/queue`)).json()) as { queue_running: unknown[] };
    expect(queue.queue_running).toEqual([]);
  }, 120_000);
});

// With room on the backend, runs go straight into ComfyUI's own queue: a high-priority run then jumps it
// with ComfyUI's `front`, but never ahead of a high-priority run already waiting there.
describe('priority inside a backend queue (front)', () => {
  let engine: RunningEngine;
  let server: TestServer;

  beforeAll(async () => {
    engine = await startTestEngine();
    server = await startTestServer({ comfyuiUrls: [engine.url] });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await engine?.close();
  });

  const submitted = async (fields: Record<string, string>, query = ''): Promise<string> => {
    const response = await server.request(`/api/v1/runs?workflow_id=slow-delay${query}`, {
      method: 'POST',
      body: formOf({ value_4: '0.2', ...fields }),
    });
    expect(response.status, await response.clone().text()).toBe(201);
    return ((await response.json()) as { data: { run_id: string } }).data.run_id;
  };
  const startedAt = async (id: string): Promise<number> => {
    const run = await waitFor(
      async () => (await server.api.getRun(id)).data,
      (each) => each.status === 'completed' || each.status === 'failed',
      60_000,
    );
    expect(run.status).toBe('completed');
    return Date.parse(run.started_at as string);
  };

  it('a high run goes ahead of queued normal ones; a second high one never overtakes the first', async () => {
    const busy = await submitted({ default_value_1: 'busy', value_4: '1.5' });
    await waitFor(
      async () => (await server.api.getRun(busy)).data.status,
      (status) => status === 'running',
    );
    const normal1 = await submitted({ default_value_1: 'n1' });
    const normal2 = await submitted({ default_value_1: 'n2' }, '&priority=low');
    const high1 = await submitted({ default_value_1: 'h1', priority: 'high' });
    const high2 = await submitted({ default_value_1: 'h2', priority: 'high' });
    const [n1, n2, h1, h2] = await Promise.all([normal1, normal2, high1, high2].map(startedAt));
    expect(h1).toBeLessThan(n1 as number);
    expect(n1).toBeLessThan(n2 as number);
    expect(h1).toBeLessThan(h2 as number);
  }, 120_000);
});
