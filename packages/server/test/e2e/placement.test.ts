import fs from 'node:fs';
import path from 'node:path';
import { type RunningEngine, startEngine } from '@flowscale/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, tempDir, waitFor } from '../support/harness';

// Placement over three real engines whose test checkpoint loader takes a while to load a model that is
// not warm (it keeps the last two warm). Engine B alone has `only-b.safetensors`.
const LOAD_MS = 400;
const engines: RunningEngine[] = [];
const dirs: string[] = [];
let server: TestServer;

async function engineWith(models: string[]): Promise<RunningEngine> {
  const dataDir = tempDir('placement-engine');
  dirs.push(dataDir);
  const checkpoints = path.join(dataDir, 'models', 'checkpoints');
  fs.mkdirSync(checkpoints, { recursive: true });
  for (const model of models) fs.writeFileSync(path.join(checkpoints, model), 'weights');
  const engine = await startEngine({
    port: 0,
    dataDir,
    logLevel: 'error',
    modelLoadMs: LOAD_MS,
    warmModels: 2,
  });
  engines.push(engine);
  return engine;
}

const graphFor = (ckpt: string, seconds: number) => ({
  '1': { class_type: 'EngineTestCheckpointLoader', inputs: { ckpt_name: ckpt } },
  '2': { class_type: 'EngineTestRender', inputs: { model: ['1', 0], width: 8, height: 8, seconds } },
  '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'placed' } },
});

async function deploy(name: string, ckpt: string, seconds = 0.05): Promise<void> {
  const response = await server.request('/api/v1/admin/workflows', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, workflow: graphFor(ckpt, seconds) }),
  });
  expect(response.status, await response.clone().text()).toBe(201);
}

async function submit(workflow: string): Promise<string> {
  const response = await server.request(`/api/v1/runs?workflow_id=${workflow}`, {
    method: 'POST',
    body: new FormData(),
  });
  expect(response.status, await response.clone().text()).toBe(201);
  return ((await response.json()) as { data: { run_id: string } }).data.run_id;
}

interface Finished {
  status: string;
  container: string | null;
  started_at: string | null;
  completed_at: string | null;
}

const finished = (runId: string): Promise<Finished> =>
  waitFor(
    async () => (await server.api.getRun(runId)).data as unknown as Finished,
    (run) => ['completed', 'failed', 'cancelled'].includes(run.status),
    60_000,
  );

const modelLoads = async (): Promise<number[]> =>
  Promise.all(
    engines.map(
      async (engine) =>
        ((await (await fetch(`${engine.url}/system_stats`)).json()) as { engine: { model_loads: number } })
          .engine.model_loads,
    ),
  );

beforeAll(async () => {
  const all = ['x.safetensors', 'y.safetensors', 'z.safetensors'];
  await engineWith(all);
  await engineWith([...all, 'only-b.safetensors']);
  await engineWith(all);
  server = await startTestServer({
    comfyuiUrls: engines.map((engine) => engine.url),
    // Long enough that the only way a run reaches a cold backend here is the test that asks for it.
    affinityWaitMs: 60_000,
  });
  await waitFor(
    async () => (await server.api.checkHealth()).data,
    (health) => health.every((container) => container.status === 'idle'),
  );
  await deploy('needs-b', 'only-b.safetensors');
  for (const model of ['x', 'y', 'z']) await deploy(`model-${model}`, `${model}.safetensors`);
}, 60_000);

afterAll(async () => {
  await server?.close();
  for (const engine of engines) await engine.close();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('placement', () => {
  it('a workflow needing a model only engine B has always runs on B, however busy B is', async () => {
    const runs = await Promise.all(Array.from({ length: 6 }, () => submit('needs-b')));
    const done = await Promise.all(runs.map(finished));
    expect(done.map((run) => run.status)).toEqual(Array(6).fill('completed'));
    expect(new Set(done.map((run) => run.container))).toEqual(new Set(['container #2']));
  }, 60_000);

  it('runs of a model keep landing on the backend where that model is warm', async () => {
    const before = await modelLoads();
    // Each model first, one at a time: each is loaded once, on an idle backend.
    const containerOf = new Map<string, string | null>();
    for (const model of ['x', 'y', 'z'])
      containerOf.set(model, (await finished(await submit(`model-${model}`))).container);
    // Then a mixed order, one at a time and then all at once: least-queue would spread each model's runs
    // over the backends (round-robin when all are idle) and load models again and again.
    const order = ['y', 'x', 'x', 'z', 'y', 'z', 'x', 'y', 'z', 'x', 'z', 'y'];
    const sequential: Array<[string, Finished]> = [];
    for (const model of order) sequential.push([model, await finished(await submit(`model-${model}`))]);
    const burst = await Promise.all(
      order.map(async (model) => [model, await finished(await submit(`model-${model}`))] as const),
    );
    for (const [model, run] of [...sequential, ...burst]) {
      expect(run.status).toBe('completed');
      expect(run.container, `a run of ${model}`).toBe(containerOf.get(model));
    }
    expect(new Set(containerOf.values()).size).toBe(3);
    const after = await modelLoads();
    // Three loads in all (needs-b loaded only-b on B before): every later run found its model warm.
    expect(after.reduce((sum, n) => sum + n, 0) - before.reduce((sum, n) => sum + n, 0)).toBe(3);
  }, 120_000);
});

describe('the affinity wait', () => {
  it('a run waits at most FLOWSCALE_AFFINITY_WAIT_MS for its busy warm backend while a cold one idles', async () => {
    // A server of its own over engines A and C, with a short wait; the first server is idle by now.
    const first = server;
    const short = await startTestServer({
      comfyuiUrls: [engines[0]!.url, engines[2]!.url],
      affinityWaitMs: 300,
    });
    server = short;
    try {
      await waitFor(
        async () => (await short.api.checkHealth()).data,
        (health) => health.every((container) => container.status === 'idle'),
      );
      await deploy('x-quick', 'x.safetensors', 0.05);
      await deploy('x-long', 'x.safetensors', 4);
      const warm = (await finished(await submit('x-quick'))).container;
      const long = await submit('x-long');
      await waitFor(
        async () => (await short.api.getRun(long)).data.status,
        (status) => status === 'running',
      );
      const next = await finished(await submit('x-quick'));
      const longRun = await finished(long);
      expect(longRun.container).toBe(warm);
      // Not queued behind the long run on the warm backend: loaded on the idle one instead.
      expect(next.status).toBe('completed');
      expect(next.container).not.toBe(warm);
      expect(Date.parse(next.completed_at!)).toBeLessThan(Date.parse(longRun.completed_at!));
    } finally {
      server = first;
      await short.close();
    }
  }, 60_000);
});

describe("the server's queue", () => {
  it('a run waiting for the one backend able to run it does not hold up the runs behind it', async () => {
    // One run at a time per backend, so runs wait in the server's own queue, in order.
    const first = server;
    const queue = await startTestServer({
      comfyuiUrls: [engines[0]!.url, engines[1]!.url],
      maxRunsPerBackend: 1,
    });
    server = queue;
    try {
      await waitFor(
        async () => (await queue.api.checkHealth()).data,
        (health) => health.every((container) => container.status === 'idle'),
      );
      await deploy('b-long', 'only-b.safetensors', 3);
      await deploy('b-quick', 'only-b.safetensors', 0.05);
      await deploy('x-any', 'x.safetensors', 0.05);
      const long = await submit('b-long');
      await waitFor(
        async () => (await queue.api.getRun(long)).data.status,
        (status) => status === 'running',
      );
      const waiting = await submit('b-quick'); // only B can run it, and B is busy
      const behind = await submit('x-any'); // A is free
      const [longRun, waitingRun, behindRun] = (await Promise.all([long, waiting, behind].map(finished))) as [
        Finished,
        Finished,
        Finished,
      ];
      expect([longRun.container, waitingRun.container, behindRun.container]).toEqual([
        'container #2',
        'container #2',
        'container #1',
      ]);
      expect(Date.parse(behindRun.completed_at!)).toBeLessThan(Date.parse(longRun.completed_at!));
    } finally {
      server = first;
      await queue.close();
    }
  }, 60_000);
});
