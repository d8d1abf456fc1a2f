// P8 affinity: four engines, three models, a simulated model load of 2 s against 0.2 s of work, 200 runs
// in random model order, all submitted at once. The same runs (same seeded order) go through three fleets
// of fresh engines and a fresh server each, in this one run:
//   - least-queue  (FLOWSCALE_PLACEMENT=least-queue): the baseline;
//   - model-affinity (FLOWSCALE_PLACEMENT=model-affinity, the default);
//   - the ceiling: every model always warm (engines with a load time of 0), least-queue.
// Each engine keeps its last two models warm (the engine's default). Throughput = runs / (last completion −
// first submission). Goal: affinity >= 3x least-queue, and >= 80% of the ceiling.
//   npm run bench -- bench/placement-affinity.ts
// Overrides for a slow machine (keep the 10:1 ratio): FS_BENCH_RUNS=200 FS_BENCH_LOAD_MS=2000 FS_BENCH_WORK_MS=200
import fs from 'node:fs';
import path from 'node:path';
import { ENGINE_BIN, fmt, SERVER_BIN, type SpawnedService, spawnService, tempDir } from './server-support';

const KEY = 'bench-key-0123456789abcdef';
const RUNS = Number(process.env.FS_BENCH_RUNS ?? 200);
const LOAD_MS = Number(process.env.FS_BENCH_LOAD_MS ?? 2000);
const WORK_MS = Number(process.env.FS_BENCH_WORK_MS ?? 200);
const ENGINES = 4;
const MODELS = ['x', 'y', 'z'];
const TIME_LIMIT_MS = 30 * 60_000;

setTimeout(() => {
  console.error('time limit reached');
  process.exit(1);
}, TIME_LIMIT_MS).unref();

/** A seeded PRNG (mulberry32), so every fleet gets the same run order. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const next = random(8);
const order = Array.from({ length: RUNS }, () => MODELS[Math.floor(next() * MODELS.length)] as string);

const modelsDir = tempDir('p8-models');
fs.mkdirSync(path.join(modelsDir, 'checkpoints'));
for (const model of MODELS)
  fs.writeFileSync(path.join(modelsDir, 'checkpoints', `${model}.safetensors`), 'w');

// The work time is an API input (`value_4`), a hair different per run: the engine, like ComfyUI, reuses
// the previous prompt's outputs, and identical runs back to back would do no work at all.
const graphFor = (model: string) => ({
  '1': { class_type: 'EngineTestCheckpointLoader', inputs: { ckpt_name: `${model}.safetensors` } },
  '4': { class_type: 'PrimitiveFloat', inputs: { value: WORK_MS / 1000 } },
  '2': {
    class_type: 'EngineTestRender',
    inputs: { model: ['1', 0], width: 8, height: 8, seconds: ['4', 0] },
  },
  '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: `p8_${model}` } },
});
const workOf = (index: number): string => String(WORK_MS / 1000 + index * 1e-6);

interface Outcome {
  seconds: number;
  throughput: number;
  loads: number[];
  failed: number;
}

// biome-ignore lint/suspicious/noExplicitAny: the bench reads a few fields of the server's JSON answers
async function call(server: SpawnedService, pathname: string, init: RequestInit = {}): Promise<any> {
  const response = await fetch(`${server.url}${pathname}`, {
    ...init,
    headers: { 'x-api-key': KEY, ...(init.headers as Record<string, string>) },
  });
  if (!response.ok) throw new Error(`${pathname}: ${response.status} ${await response.text()}`);
  return response.json();
}

async function fleet(label: string, placement: string, loadMs: number): Promise<Outcome> {
  const engines = await Promise.all(
    Array.from({ length: ENGINES }, () =>
      spawnService(ENGINE_BIN, [
        ...['--port', '0', '--data-dir', tempDir('p8-engine'), '--log-level', 'error'],
        ...['--models-dir', modelsDir, '--model-load-ms', String(loadMs), '--warm-models', '2'],
      ]),
    ),
  );
  const server = await spawnService(
    SERVER_BIN,
    [
      ...['--port', '0', '--data-dir', tempDir('p8-server'), '--api-key', KEY, '--log-level', 'warn'],
      ...engines.flatMap((engine) => ['--comfyui-url', engine.url]),
    ],
    { env: { FLOWSCALE_PLACEMENT: placement } },
  );
  try {
    for (const model of MODELS)
      await call(server, '/api/v1/admin/workflows', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: `model-${model}`, workflow: graphFor(model) }),
      });
    const started = Date.now();
    // Submitted in order, without waiting for each other's placement: all 200 are queued within a moment.
    for (const [index, model] of order.entries()) {
      const form = new FormData();
      form.append('value_4', workOf(index));
      await call(server, `/api/v1/runs?workflow_id=model-${model}`, { method: 'POST', body: form });
    }
    for (;;) {
      const open = await call(server, '/api/v1/runs?status=queued,running&page_size=1');
      if (open.meta.total_count === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const last = await call(server, '/api/v1/runs?sort_by=completed_at&sort_order=desc&page_size=1');
    const failed = (await call(server, '/api/v1/runs?status=failed,cancelled&page_size=1')).meta.total_count;
    const seconds = (Date.parse(last.data.runs[0].completed_at) - started) / 1000;
    const loads = await Promise.all(
      engines.map(async (engine) => {
        const stats = await (await fetch(`${engine.url}/system_stats`)).json();
        return stats.engine.model_loads as number;
      }),
    );
    if (process.env.FS_BENCH_TRACE) await trace(server, started);
    const outcome = { seconds, throughput: RUNS / seconds, loads, failed };
    console.log(
      `${label.padEnd(15)} ${fmt(seconds, 1).padStart(6)} s  ${fmt(outcome.throughput, 2).padStart(6)} runs/s` +
        `  model loads ${loads.reduce((a, b) => a + b, 0)} (${loads.join('/')})  failed ${failed}`,
    );
    return outcome;
  } finally {
    await server.stop();
    await Promise.all(engines.map((engine) => engine.stop()));
  }
}

/** FS_BENCH_TRACE=1: per backend, the runs it did as model segments: `x×12 [0.0–4.6 s]`. */
async function trace(server: SpawnedService, started: number): Promise<void> {
  const runs: Array<{ container: string; workflow_id: string; started_at: string; completed_at: string }> =
    [];
  for (let page = 1; runs.length < RUNS; page++) {
    const query = `sort_by=started_at&sort_order=asc&page_size=100&page=${page}`;
    const batch = (await call(server, `/api/v1/runs?${query}`)).data.runs;
    if (batch.length === 0) break;
    runs.push(...batch);
  }
  const workflows = (await call(server, '/api/v1/comfy/workflows')).data as Array<{
    id: string;
    name: string;
  }>;
  const nameOf = new Map(workflows.map((w) => [w.id, w.name.replace('model-', '')]));
  const at = (iso: string) => fmt((Date.parse(iso) - started) / 1000, 1);
  for (const container of [...new Set(runs.map((run) => run.container))].sort()) {
    const segments: string[] = [];
    let current: { model: string; count: number; from: string; to: string } | undefined;
    for (const run of runs.filter((r) => r.container === container)) {
      const model = nameOf.get(run.workflow_id) ?? run.workflow_id;
      if (current?.model === model) {
        current.count++;
        current.to = run.completed_at;
        continue;
      }
      if (current) segments.push(`${current.model}×${current.count} [${at(current.from)}–${at(current.to)}]`);
      current = { model, count: 1, from: run.started_at, to: run.completed_at };
    }
    if (current) segments.push(`${current.model}×${current.count} [${at(current.from)}–${at(current.to)}]`);
    console.log(`  ${container}: ${segments.join(' ')}`);
  }
}

console.log(
  `P8 affinity: ${ENGINES} engines, ${MODELS.length} models, load ${LOAD_MS} ms, work ${WORK_MS} ms, ` +
    `${RUNS} runs (${MODELS.map((m) => `${m}: ${order.filter((o) => o === m).length}`).join(', ')})`,
);
// FS_BENCH_ONLY=model-affinity runs that fleet alone (for tuning; no ratios then).
if (process.env.FS_BENCH_ONLY) {
  await fleet(process.env.FS_BENCH_ONLY, process.env.FS_BENCH_ONLY, LOAD_MS);
  process.exit(0);
}
const leastQueue = await fleet('least-queue', 'least-queue', LOAD_MS);
const affinity = await fleet('model-affinity', 'model-affinity', LOAD_MS);
const ceiling = await fleet('ceiling (warm)', 'least-queue', 0);
const vsLeast = affinity.throughput / leastQueue.throughput;
const vsCeiling = affinity.throughput / ceiling.throughput;
console.log(
  `model-affinity / least-queue: ${fmt(vsLeast, 2)}x (goal >= 3x) ${vsLeast >= 3 ? 'MET' : 'NOT MET'}`,
);
console.log(
  `model-affinity / ceiling:     ${fmt(vsCeiling * 100, 0)}% (goal >= 80%) ${vsCeiling >= 0.8 ? 'MET' : 'NOT MET'}`,
);
if (leastQueue.failed + affinity.failed + ceiling.failed > 0) {
  console.error('some runs failed');
  process.exit(1);
}
process.exit(0);
