// Gateway overhead: executeWorkflowAsync through the server vs the same trivial workflow submitted straight
// to the same engine (POST /prompt, wait for the end of the prompt on its WebSocket, GET /history, GET /view).
// Engine and server each run in their own process, as deployed; this process is only the client.
// Both paths are measured end to end in one run, interleaved. Goal: ≤ 5 ms added at the median.
//   node --conditions=flowscale-source --import tsx bench/server-gateway-overhead.ts
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { FlowscaleAPI } from 'flowscale';
import WebSocket from 'ws';
import {
  buildServerBundle,
  cpuMsOf,
  ENGINE_BIN,
  fmt,
  median,
  percentile,
  SERVER_BIN,
  spawnBundle,
  spawnService,
  tempDir,
} from './server-support';

const KEY = 'bench-key-0123456789abcdef';
const ITERATIONS = 150;
const WARMUP = 5;
const graphTemplate = JSON.parse(fs.readFileSync('packages/server/workflows/text-echo.json', 'utf8'));

const engine = await spawnService(ENGINE_BIN, [
  '--port',
  '0',
  '--data-dir',
  tempDir('gw-engine'),
  '--log-level',
  'error',
]);
const serverArgs = [
  ...[
    '--port',
    '0',
    '--data-dir',
    tempDir('gw-server'),
    '--api-key',
    KEY,
    '--workflows-dir',
    'packages/server/workflows',
  ],
  ...['--comfyui-url', engine.url, '--log-level', 'warn'],
];
// The server runs from a release-style bundle; `--dev` runs its TypeScript sources through tsx instead.
const dev = process.argv.includes('--dev');
const server = dev
  ? await spawnService(SERVER_BIN, serverArgs)
  : await spawnBundle(await buildServerBundle(), serverArgs);
const api = new FlowscaleAPI({ apiKey: KEY, baseUrl: server.url, enableLogging: false });

// A direct ComfyUI-protocol client: one socket, prompts tagged with its clientId.
const clientId = randomUUID();
const socket = new WebSocket(`${engine.url.replace(/^http/, 'ws')}/ws?clientId=${clientId}`);
await new Promise((resolve) => socket.once('open', resolve));
const waiters = new Map<string, () => void>();
socket.on('message', (raw, isBinary) => {
  if (isBinary) return;
  const message = JSON.parse(raw.toString());
  if (message.type === 'executing' && message.data.node === null) waiters.get(message.data.prompt_id)?.();
});

async function direct(text: string): Promise<string> {
  const graph = structuredClone(graphTemplate);
  graph['1'].inputs.default_value = text;
  graph['3'].inputs.filename_prefix = `direct_${randomUUID().slice(0, 8)}`;
  const promptId = randomUUID();
  const done = new Promise<void>((resolve) => waiters.set(promptId, resolve));
  const response = await fetch(`${engine.url}/prompt`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: graph, prompt_id: promptId, client_id: clientId }),
  });
  await response.json();
  await done;
  waiters.delete(promptId);
  const history = await (await fetch(`${engine.url}/history/${promptId}`)).json();
  const file = history[promptId].outputs['3'].files[0];
  const view = await fetch(`${engine.url}/view?filename=${encodeURIComponent(file.filename)}&type=output`);
  return view.text();
}

async function viaServer(text: string): Promise<string> {
  const result = await api.executeWorkflowAsync(
    'text-echo',
    { default_value_1: text },
    undefined,
    2000,
    60_000,
    {
      mode: 'sse',
    },
  );
  return result.data[0]?.file_content ?? '';
}

/** The same three calls the SDK makes, with bare fetch: separates the server's cost from the SDK's. */
async function rawClient(text: string): Promise<string> {
  const form = new FormData();
  form.append('default_value_1', text);
  const submitted = await (
    await fetch(`${server.url}/api/v1/runs?workflow_id=text-echo`, {
      method: 'POST',
      headers: { 'x-api-key': KEY },
      body: form,
    })
  ).json();
  const events = await fetch(`${server.url}/api/v1/runs/${submitted.data.run_id}/events`, {
    headers: { 'x-api-key': KEY },
  });
  const reader = events.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let content: Promise<string> | undefined;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    if (!content && buffer.includes('event: output.ready')) {
      content = fetch(`${server.url}/api/v1/runs/output?filename=${submitted.data.output_names[0]}`, {
        headers: { 'x-api-key': KEY },
      }).then(async (r) => (await r.json()).data.file_content);
    }
  }
  return content!;
}
const rawMs: number[] = [];
const directMs: number[] = [];
const serverMs: number[] = [];
let serverCpuAtStart = 0;
for (let index = 0; index < WARMUP + ITERATIONS; index++) {
  if (index === WARMUP) serverCpuAtStart = cpuMsOf(server.child.pid as number);
  const text = `bench ${index} ${randomUUID()}`;
  let started = performance.now();
  const a = await direct(text);
  const directTime = performance.now() - started;
  started = performance.now();
  const b = await viaServer(text);
  const serverTime = performance.now() - started;
  started = performance.now();
  const c = await rawClient(text);
  const rawTime = performance.now() - started;
  if (a !== `${text} from FlowScale` || b !== a || c !== a)
    throw new Error(`unexpected outputs: ${a} / ${b} / ${c}`);
  if (index >= WARMUP) {
    rawMs.push(rawTime);
    directMs.push(directTime);
    serverMs.push(serverTime);
  }
}
const line = (label: string, values: number[]): void =>
  console.log(`${label.padEnd(44)} p50 ${fmt(median(values))} ms  p90 ${fmt(percentile(values, 90))} ms`);
console.log(`${ITERATIONS} runs of text-echo per path, interleaved, after ${WARMUP} warm-up rounds`);
line('straight to the engine (baseline)', directMs);
line('SDK executeWorkflowAsync through the server', serverMs);
line('bare fetch, same 3 calls through the server', rawMs);
const serverCpuPerRun = (cpuMsOf(server.child.pid as number) - serverCpuAtStart) / (2 * ITERATIONS);
console.log(`server process CPU per run (load-independent): ${fmt(serverCpuPerRun, 2)} ms`);
const added = median(serverMs) - median(directMs);
console.log(
  `added at the median: ${fmt(added)} ms with the SDK (ratio ${fmt(median(serverMs) / median(directMs), 2)}×; goal ≤ 5 ms), ` +
    `${fmt(median(rawMs) - median(directMs))} ms with a bare client (server share)`,
);
socket.close();
await server.stop();
await engine.stop();
