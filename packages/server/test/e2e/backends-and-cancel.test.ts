import type { RunningEngine } from '@flowscale/engine';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestEngine, startTestServer, type TestServer, tempDir, waitFor } from '../support/harness';

// Child processes and real engines on a shared 2-core box: generous limits, only to stop hangs.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 90_000 });

// Two real engines behind one server: spreading load, cancelling queued and running runs, losing a backend.
let engineA: RunningEngine;
let engineB: RunningEngine;
let server: TestServer;

interface RunRecord {
  _id: string;
  status: string;
  prompt_id: string;
  container: string | null;
  error: { message: string } | null;
}

const getRun = async (runId: string): Promise<RunRecord> =>
  (await server.api.getRun(runId)).data as unknown as RunRecord;
const until = (runId: string, statuses: string[]) =>
  waitFor(
    () => getRun(runId),
    (run) => statuses.includes(run.status),
    30_000,
  );
const slow = async (seconds: number): Promise<string> =>
  (await server.api.executeWorkflow('slow-delay', { default_value_1: 'slow', value_4: seconds })).data.run_id;

async function engineKnows(
  engine: RunningEngine,
  promptId: string,
): Promise<{ queued: boolean; history: boolean }> {
  const queue = await (await fetch(`${engine.url}/queue`)).json();
  const ids = [...queue.queue_running, ...queue.queue_pending].map((item: unknown[]) => item[1]);
  const history = await (await fetch(`${engine.url}/history/${promptId}`)).json();
  return { queued: ids.includes(promptId), history: promptId in history };
}

beforeAll(async () => {
  engineA = await startTestEngine();
  engineB = await startTestEngine();
  server = await startTestServer({ comfyuiUrls: [engineA.url, engineB.url] });
  await waitFor(
    async () => (await server.api.checkHealth()).data,
    (health) => health.every((container) => container.status !== 'unreachable'),
  );
});
afterAll(async () => {
  await server?.close();
  await engineA?.close();
  await engineB?.close().catch(() => undefined);
});

describe('two backends', () => {
  it('reports both containers and spreads concurrent runs over them', async () => {
    const health = await server.api.checkHealth();
    expect(health.data.map((container) => container.container)).toEqual(['container #1', 'container #2']);
    const runIds = await Promise.all([0.3, 0.3, 0.3, 0.3].map(slow));
    const runs = await Promise.all(runIds.map((runId) => until(runId, ['completed'])));
    expect(new Set(runs.map((run) => run.container))).toEqual(new Set(['container #1', 'container #2']));
  });

  it('cancels a queued run: it leaves the backend queue and never executes', async () => {
    // Fill both backends so the third run waits in a backend queue.
    const blockers = [await slow(2), await slow(2)];
    const queuedId = await slow(1);
    await until(blockers[0]!, ['running']);
    const queued = await getRun(queuedId);
    expect(queued.status).toBe('queued');
    expect((await server.api.cancelRun(queuedId)).data).toBe('Run cancelled successfully');
    expect((await getRun(queuedId)).status).toBe('cancelled');
    await Promise.all(blockers.map((runId) => until(runId, ['completed'])));
    for (const engine of [engineA, engineB]) {
      expect(await engineKnows(engine, queued.prompt_id)).toEqual({ queued: false, history: false });
    }
    const again = await server.api.cancelRun(queuedId).catch((error: { status?: number }) => error);
    expect((again as { status?: number }).status).toBe(409);
  });

  it('cancels a running run: the prompt is interrupted and produces no output', async () => {
    const runId = await slow(3);
    const running = await until(runId, ['running']);
    await server.api.cancelRun(runId);
    expect((await getRun(runId)).status).toBe('cancelled');
    const engine = running.container === 'container #1' ? engineA : engineB;
    const settled = await waitFor(
      () => engineKnows(engine, running.prompt_id),
      (state) => !state.queued,
      15_000,
    );
    expect(settled.queued).toBe(false);
    const history = await (await fetch(`${engine.url}/history/${running.prompt_id}`)).json();
    expect(history[running.prompt_id]?.status?.status_str).not.toBe('success');
    const run = await getRun(runId);
    expect(run.status).toBe('cancelled');
  });

  it('a backend that dies: its running run fails clearly, its queued run moves and completes', async () => {
    // Alternating least-loaded dispatch puts two runs on each backend: one running, one queued.
    const runIds: string[] = [];
    for (let index = 0; index < 4; index++) runIds.push(await slow(1.5));
    await waitFor(
      () => Promise.all(runIds.map(getRun)),
      // With several replicas placement goes through a queue: wait until all four are placed, too.
      (runs) =>
        runs.filter((run) => run.status === 'running').length === 2 && runs.every((run) => run.container),
    );
    const runs = await Promise.all(runIds.map(getRun));
    const onB = runs.filter((run) => run.container === 'container #2');
    expect(onB).toHaveLength(2);
    const runningOnB = onB.find((run) => run.status === 'running')!;
    const queuedOnB = onB.find((run) => run.status === 'queued')!;
    await engineB.close();

    const failed = await until(runningOnB._id, ['failed', 'completed']);
    expect(failed.status).toBe('failed');
    expect(failed.error?.message).toMatch(/container #2 .*unreachable while the run was executing/);
    const moved = await until(queuedOnB._id, ['completed', 'failed']);
    expect(moved).toMatchObject({ status: 'completed', container: 'container #1' });
    const health = await server.api.checkHealth();
    expect(health.data).toContainEqual(
      expect.objectContaining({ container: 'container #2', status: 'unreachable' }),
    );
    for (const run of runs.filter((r) => r.container === 'container #1')) {
      expect((await until(run._id, ['completed', 'failed'])).status).toBe('completed');
    }
  });

  it('a backend that comes back on the same address is reconnected and used again', async () => {
    const { startEngine } = await import('@flowscale/engine');
    engineB = await startEngine({ port: Number(new URL(engineB.url).port), dataDir: tempDir('engine-b2') });
    await waitFor(
      async () => (await server.api.checkHealth()).data,
      (health) => health.every((container) => container.status !== 'unreachable'),
    );
    const runIds = await Promise.all([0.3, 0.3, 0.3, 0.3].map(slow));
    const runs = await Promise.all(runIds.map((runId) => until(runId, ['completed', 'failed'])));
    expect(runs.map((run) => run.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
    expect(runs.some((run) => run.container === 'container #2')).toBe(true);
  });
});
