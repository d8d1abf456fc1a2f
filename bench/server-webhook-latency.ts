// Webhook latency: from the moment a run finishes on its backend (the engine's execution_success
// timestamp, same machine clock) to a receiver on a loopback port getting the run.completed webhook. The
// baseline, measured on the same runs: the same run.completed event reaching an SSE subscriber of the run.
// Goal (webhook): p50 < 20 ms. Engine and server are their own processes; this one is receiver and client.
//   node --conditions=flowscale-source --import tsx bench/server-webhook-latency.ts
//   WEBHOOK_BENCH_RUNS=20 for a quick run; WEBHOOK_BENCH_DB=postgres for the server on Postgres.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FlowscaleAdminAPI } from 'flowscale/admin';
import type { WebhookPayload } from 'flowscale/webhooks';
import {
  createBenchDatabase,
  ENGINE_BIN,
  fmt,
  median,
  percentile,
  SERVER_BIN,
  spawnService,
  tempDir,
} from './server-support';

const KEY = 'bench-key-0123456789abcdef';
const RUNS = Number(process.env.WEBHOOK_BENCH_RUNS ?? 100);
const database =
  process.env.WEBHOOK_BENCH_DB === 'postgres' ? await createBenchDatabase('webhooks') : undefined;

const arrived = new Map<string, number>();
const waiters = new Map<string, () => void>();
const receiver = http.createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const at = Date.now();
    response.writeHead(204).end();
    const payload = JSON.parse(Buffer.concat(chunks).toString()) as WebhookPayload;
    const runId = payload.data.run?.id as string | undefined;
    if (payload.type !== 'run.completed' || !runId) return;
    arrived.set(runId, at);
    waiters.get(runId)?.();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));

const engine = await spawnService(ENGINE_BIN, [
  '--port',
  '0',
  '--data-dir',
  tempDir('wl-engine'),
  '--log-level',
  'error',
]);
const server = await spawnService(
  SERVER_BIN,
  [
    ...['--port', '0', '--data-dir', tempDir('wl-server'), '--api-key', KEY],
    ...['--comfyui-url', engine.url, '--log-level', 'warn'],
  ],
  // The receiver is on loopback: allowed by the URL-input setting, as in the tests.
  {
    env: {
      FLOWSCALE_ALLOW_PRIVATE_URLS: 'true',
      ...(database ? { FLOWSCALE_DATABASE_URL: database.url } : {}),
    },
  },
);
const api = new FlowscaleAdminAPI({ apiKey: KEY, baseUrl: server.url, enableLogging: false });
const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
await api.createWebhook({ url: receiverUrl, events: ['run.completed'] });

async function finishedAt(promptId: string): Promise<number> {
  const history = await (await fetch(`${engine.url}/history/${promptId}`)).json();
  const messages: Array<[string, { timestamp?: number }]> = history[promptId].status.messages;
  const success = messages.find(([type]) => type === 'execution_success');
  if (!success?.[1].timestamp) throw new Error('no execution_success timestamp');
  return success[1].timestamp;
}

/** One run: [webhook, SSE] latency from execution_success, in ms. */
async function measure(index: number): Promise<[number, number]> {
  const { data } = await api.executeWorkflow('slow-delay', { default_value_1: `w${index}`, value_4: 0.2 });
  const runId = data.run_id;
  const webhook = new Promise<void>((resolve) => {
    if (arrived.has(runId)) resolve();
    else waiters.set(runId, resolve);
  });
  let sseAt = 0;
  await api.subscribeRunEvents(runId, {
    onEvent: (event) => {
      if (event.data.type === 'run.completed') sseAt = Date.now();
    },
  }).done;
  await webhook;
  waiters.delete(runId);
  const run = (await api.getRun(runId)).data as unknown as { prompt_id: string };
  const finished = await finishedAt(run.prompt_id);
  return [(arrived.get(runId) as number) - finished, sseAt - finished];
}

for (let index = 0; index < 3; index++) await measure(-1 - index); // warm-up
const webhook: number[] = [];
const sse: number[] = [];
for (let index = 0; index < RUNS; index++) {
  const [w, s] = await measure(index);
  webhook.push(w);
  sse.push(s);
}
const report = (label: string, values: number[]): void =>
  console.log(
    `${label.padEnd(34)} n=${values.length}  p50 ${fmt(median(values), 0)} ms  p99 ${fmt(percentile(values, 99), 0)} ms  max ${fmt(Math.max(...values), 0)} ms`,
  );
console.log(
  `time from execution_success on the engine to the event arriving (${database ? 'Postgres' : 'SQLite'}):`,
);
report('webhook at the receiver', webhook);
report('baseline: SSE subscriber (same runs)', sse);
console.log(
  `webhook - SSE at the median: ${fmt(median(webhook) - median(sse), 1)} ms; ratio ${fmt(median(webhook) / Math.max(1, median(sse)), 2)}× ` +
    `(goal webhook p50 < 20 ms -> ${median(webhook) < 20 ? 'MET' : 'NOT MET'})`,
);
await server.stop();
await engine.stop();
receiver.close();
await database?.drop();
