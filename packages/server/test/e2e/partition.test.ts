import type { RunningEngine } from '@flowscale/engine';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sleep, startTestEngine, startTestServer, type TestServer, waitFor } from '../support/harness';
import { type Relay, startRelay } from '../support/relay';

// Real engines, a real server, and a TCP relay that stops forwarding while the engine keeps running.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

interface RunRecord {
  _id: string;
  status: string;
  prompt_id: string;
  container: string | null;
  error: { message: string } | null;
  outputs: unknown[];
}

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const each of opened.splice(0).reverse()) await each.close().catch(() => undefined);
});

async function engine(): Promise<RunningEngine> {
  const started = await startTestEngine();
  opened.push(started);
  return started;
}

async function relayTo(target: RunningEngine): Promise<Relay> {
  const relay = await startRelay(Number(new URL(target.url).port));
  opened.push(relay);
  return relay;
}

async function server(comfyuiUrls: string[], partitionDeadlineMs: number): Promise<TestServer> {
  const started = await startTestServer({ comfyuiUrls, partitionDeadlineMs, backendHeartbeatMs: 500 });
  opened.push(started);
  await waitFor(
    async () => (await started.api.checkHealth()).data,
    (health) => health.every((container) => container.status !== 'unreachable'),
  );
  return started;
}

const getRun = async (api: TestServer['api'], runId: string): Promise<RunRecord> =>
  (await api.getRun(runId)).data as unknown as RunRecord;
const slow = async (api: TestServer['api'], seconds: number): Promise<string> =>
  (await api.executeWorkflow('slow-delay', { default_value_1: 'slow', value_4: seconds })).data.run_id;

/** Every prompt the engine executed, by prompt id (an execution is one history entry). */
async function executed(target: RunningEngine): Promise<string[]> {
  return Object.keys(await (await fetch(`${target.url}/history`)).json());
}

async function untilUnreachable(api: TestServer['api'], container: string): Promise<void> {
  await waitFor(
    async () => (await api.checkHealth()).data,
    (health) => health.some((each) => each.container === container && each.status === 'unreachable'),
    20_000,
  );
}

describe('a backend behind a partition', () => {
  it.each([
    ['cut', false],
    ['silent (only the heartbeat notices)', true],
  ])(
    '%s: keeps its runs while out of reach, then reconciles them; nothing fails or runs twice',
    async (_, silent) => {
      const target = await engine();
      const relay = await relayTo(target);
      const { api } = await server([relay.url], 60_000);
      const running = await slow(api, 2.5);
      const queued = await slow(api, 0.2);
      await waitFor(
        () => getRun(api, running),
        (run) => run.status === 'running',
        30_000,
      );

      relay.partition({ silent });
      await untilUnreachable(api, 'container #1');
      // The backend went quiet without refusing: past the dead-backend grace period, neither run has
      // been failed or moved, while the engine went on with both.
      await sleep(3500);
      expect((await getRun(api, running)).status).toBe('running');
      expect((await getRun(api, queued)).status).toBe('queued');
      const promptIds = [(await getRun(api, running)).prompt_id, (await getRun(api, queued)).prompt_id];
      await waitFor(
        () => executed(target),
        (ids) => promptIds.every((id) => ids.includes(id)),
        30_000,
      );

      relay.heal();
      for (const runId of [running, queued]) {
        const run = await waitFor(
          () => getRun(api, runId),
          (each) => each.status !== 'running' && each.status !== 'queued',
          30_000,
        );
        expect(run.status, run.error?.message).toBe('completed');
      }
      for (const runId of [running, queued])
        expect((await getRun(api, runId)).outputs.length).toBeGreaterThan(0);
      // Each prompt executed exactly once: the engine's history holds the two and nothing else.
      expect((await executed(target)).sort()).toEqual([...promptIds].sort());
    },
  );

  it('past the deadline, a queued run moves to another backend and the running one fails, both said', async () => {
    const [a, b] = [await engine(), await engine()];
    const relay = await relayTo(a);
    const { api } = await server([relay.url, b.url], 1500);
    // Least-loaded placement alternates: two runs on each backend, one running and one queued.
    const runIds: string[] = [];
    for (let index = 0; index < 4; index++) runIds.push(await slow(api, 3));
    const placed = await waitFor(
      () => Promise.all(runIds.map((runId) => getRun(api, runId))),
      (runs) =>
        runs.filter((run) => run.status === 'running').length === 2 && runs.every((run) => run.container),
      30_000,
    );
    const onA = placed.filter((run) => run.container === 'container #1');
    expect(onA).toHaveLength(2);
    const runningOnA = onA.find((run) => run.status === 'running')!;
    const queuedOnA = onA.find((run) => run.status === 'queued')!;

    relay.partition();
    const failed = await waitFor(
      () => getRun(api, runningOnA._id),
      (run) => run.status !== 'running',
      30_000,
    );
    expect(failed.status).toBe('failed');
    expect(failed.error?.message).toMatch(/container #1 .*out of reach for 2 s while the run was executing/);
    const moved = await waitFor(
      () => getRun(api, queuedOnA._id),
      (run) => run.status === 'completed' || run.status === 'failed',
      60_000,
    );
    expect(moved.status).toBe('completed');
    expect(moved.container).toBe('container #2');
    expect(await executed(b)).toContain(moved.prompt_id);
  });
});
