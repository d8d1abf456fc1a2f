// 1,000 runs submitted concurrently through the server: all must complete, none lost, none duplicated.
// Baseline in the same run: the same 1,000 prompts submitted concurrently straight to the same engine.
// Engine and server run as separate processes; this process is only the client.
//   node --conditions=flowscale-source --import tsx bench/server-1000-runs.ts
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { FlowscaleAPI } from 'flowscale';
import { WebSocket as NodeWebSocket } from 'flowscale/node';
import WebSocket from 'ws';
import { ENGINE_BIN, fmt, SERVER_BIN, spawnService, tempDir } from './server-support';

const KEY = 'bench-key-0123456789abcdef';
const RUNS = 1000;
const TIME_LIMIT_MS = 300_000;
const engineDir = tempDir('k-engine');
const engine = await spawnService(ENGINE_BIN, [
  '--port',
  '0',
  '--data-dir',
  engineDir,
  '--log-level',
  'error',
]);
const server = await spawnService(SERVER_BIN, [
  ...['--port', '0', '--data-dir', tempDir('k-server'), '--api-key', KEY],
  ...['--comfyui-url', engine.url, '--log-level', 'warn'],
]);
const api = new FlowscaleAPI({
  apiKey: KEY,
  baseUrl: server.url,
  enableLogging: false,
  webSocketImpl: NodeWebSocket,
});
const graphTemplate = JSON.parse(fs.readFileSync('packages/server/workflows/text-echo.json', 'utf8'));
const deadline = (what: string) =>
  setTimeout(() => {
    console.error(`${what}: time limit reached`);
    process.exit(1);
  }, TIME_LIMIT_MS);

async function baseline(): Promise<number> {
  const clientId = randomUUID();
  const socket = new WebSocket(`${engine.url.replace(/^http/, 'ws')}/ws?clientId=${clientId}`);
  await new Promise((resolve) => socket.once('open', resolve));
  const pending = new Set<string>();
  let finish!: () => void;
  const allDone = new Promise<void>((resolve) => {
    finish = resolve;
  });
  socket.on('message', (raw, isBinary) => {
    if (isBinary) return;
    const message = JSON.parse(raw.toString());
    if (
      message.type === 'executing' &&
      message.data.node === null &&
      pending.delete(message.data.prompt_id)
    ) {
      if (pending.size === 0) finish();
    }
  });
  const timer = deadline('baseline');
  const started = performance.now();
  await Promise.all(
    Array.from({ length: RUNS }, async (_, index) => {
      const graph = structuredClone(graphTemplate);
      graph['1'].inputs.default_value = `direct ${index}`;
      graph['3'].inputs.filename_prefix = `direct_${index}_`;
      const promptId = randomUUID();
      pending.add(promptId);
      const response = await fetch(`${engine.url}/prompt`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: graph, prompt_id: promptId, client_id: clientId }),
      });
      if (!response.ok) throw new Error(`engine refused a prompt: ${response.status}`);
    }),
  );
  await allDone;
  clearTimeout(timer);
  socket.close();
  return (performance.now() - started) / 1000;
}

async function throughServer(): Promise<{ seconds: number; runIds: string[] }> {
  const completed = new Set<string>();
  const failed = new Set<string>();
  let expected = Number.POSITIVE_INFINITY;
  let finish!: () => void;
  const allDone = new Promise<void>((resolve) => {
    finish = resolve;
  });
  let opened!: () => void;
  const open = new Promise<void>((resolve) => {
    opened = resolve;
  });
  const disconnect = api.connectWebSocket({
    onOpen: () => opened(),
    onMessage: (message) => {
      const data = message.data as { run_id?: string; status?: string };
      if (message.type !== 'run_status_update' || !data.run_id) return;
      if (data.status === 'completed') completed.add(data.run_id);
      if (data.status === 'failed' || data.status === 'cancelled') failed.add(data.run_id);
      if (completed.size + failed.size >= expected) finish();
    },
  });
  await open;
  const timer = deadline('server');
  const started = performance.now();
  const submitted = await Promise.all(
    Array.from({ length: RUNS }, (_, index) =>
      api.executeWorkflow('text-echo', { default_value_1: `run ${index}` }),
    ),
  );
  expected = RUNS;
  if (completed.size + failed.size >= expected) finish();
  await allDone;
  const seconds = (performance.now() - started) / 1000;
  clearTimeout(timer);
  disconnect();
  if (failed.size > 0) throw new Error(`${failed.size} runs failed`);
  return { seconds, runIds: submitted.map((response) => response.data.run_id) };
}

const baselineSeconds = await baseline();
const { seconds, runIds } = await throughServer();

// Verify: distinct runs, each completed with its own output, and exactly one engine execution per run.
if (new Set(runIds).size !== RUNS) throw new Error('duplicate run ids');
let wrong = 0;
for (let start = 0; start < RUNS; start += 50) {
  await Promise.all(
    runIds.slice(start, start + 50).map(async (runId, offset) => {
      const run = (await api.getRun(runId)).data;
      const output = await api.getOutput(run.output_names?.[0] ?? '');
      if (run.status !== 'completed' || output?.data.file_content !== `run ${start + offset} from FlowScale`)
        wrong++;
    }),
  );
}
const listed = (await api.getRuns(undefined, { pageSize: 1 })).data.count;
const engineFiles = fs
  .readdirSync(path.join(engineDir, 'output'), { recursive: true, encoding: 'utf8' })
  .filter((file) => path.basename(file).startsWith('filename_prefix_3_')).length;
console.log(`${RUNS} concurrent text-echo runs`);
console.log(
  `straight to the engine:  ${fmt(baselineSeconds, 2)} s  → ${fmt(RUNS / baselineSeconds, 0)} runs/s`,
);
console.log(
  `through the server:      ${fmt(seconds, 2)} s  → ${fmt(RUNS / seconds, 0)} runs/s (submit → all completed)`,
);
console.log(`server / direct throughput: ${fmt((100 * baselineSeconds) / seconds)} %`);
console.log(
  `check: runs listed ${listed}, distinct ids ${new Set(runIds).size}, wrong or missing outputs ${wrong}, engine executions ${engineFiles}`,
);
if (listed !== RUNS || wrong !== 0 || engineFiles !== RUNS) process.exitCode = 1;
await server.stop();
await engine.stop();
