// Gateway overhead: executeWorkflowAsync through the server vs the same trivial workflow submitted straight
// to the same engine (POST /prompt, wait for the end of the prompt on its WebSocket, GET /history, GET /view).
// Both are measured end to end in one run, interleaved. Goal: ≤ 5 ms added at the median.
//   node --conditions=source --import tsx bench/server-gateway-overhead.ts
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { startEngine } from '@flowscale/engine';
import { startServer } from '@flowscale/server';
import { FlowscaleAPI } from 'flowscale';
import WebSocket from 'ws';
import { fmt, median, percentile, tempDir } from './server-support';

const KEY = 'bench-key-0123456789abcdef';
const ITERATIONS = 60;
const WARMUP = 5;
const graphTemplate = JSON.parse(fs.readFileSync('packages/server/workflows/text-echo.json', 'utf8'));

const engine = await startEngine({ port: 0, dataDir: tempDir('gw-engine'), logLevel: 'error' });
const server = await startServer({
  port: 0,
  dataDir: tempDir('gw-server'),
  apiKeys: [KEY],
  comfyuiUrls: [engine.url],
  logLevel: 'warn',
});
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

const directMs: number[] = [];
const serverMs: number[] = [];
for (let index = 0; index < WARMUP + ITERATIONS; index++) {
  const text = `bench ${index} ${randomUUID()}`;
  let started = performance.now();
  const a = await direct(text);
  const directTime = performance.now() - started;
  started = performance.now();
  const b = await viaServer(text);
  const serverTime = performance.now() - started;
  if (a !== `${text} from FlowScale` || b !== a) throw new Error(`unexpected outputs: ${a} / ${b}`);
  if (index >= WARMUP) {
    directMs.push(directTime);
    serverMs.push(serverTime);
  }
}
const added = median(serverMs) - median(directMs);
console.log(`${ITERATIONS} runs each of text-echo, interleaved, after ${WARMUP} warm-up runs`);
console.log(
  `straight to engine        p50 ${fmt(median(directMs))} ms  p90 ${fmt(percentile(directMs, 90))} ms`,
);
console.log(
  `executeWorkflowAsync      p50 ${fmt(median(serverMs))} ms  p90 ${fmt(percentile(serverMs, 90))} ms`,
);
console.log(
  `added by the gateway at the median: ${fmt(added)} ms (ratio ${fmt(median(serverMs) / median(directMs), 2)}×; goal ≤ 5 ms)`,
);
socket.close();
await server.close();
await engine.close();
