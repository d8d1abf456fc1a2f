// Notification latency: from the moment the run finishes on its backend (the engine's execution_success
// timestamp, same machine clock) to executeWorkflowAsync resolving in the client. The server's event stream
// is compared with the documented 2-second polling, in one run. Goal (events): < 20 ms p50, < 50 ms p99.
// Engine and server run as separate processes; this process is only the client.
//   node --conditions=flowscale-source --import tsx bench/server-notify-latency.ts
import { FlowscaleAPI } from 'flowscale';
import { ENGINE_BIN, fmt, median, percentile, SERVER_BIN, spawnService, tempDir } from './server-support';

const KEY = 'bench-key-0123456789abcdef';
const SSE_RUNS = 100;
const POLL_RUNS = 8;

const engine = await spawnService(ENGINE_BIN, [
  '--port',
  '0',
  '--data-dir',
  tempDir('nl-engine'),
  '--log-level',
  'error',
]);
const server = await spawnService(SERVER_BIN, [
  ...['--port', '0', '--data-dir', tempDir('nl-server'), '--api-key', KEY],
  ...['--comfyui-url', engine.url, '--log-level', 'warn'],
]);
const api = new FlowscaleAPI({ apiKey: KEY, baseUrl: server.url, enableLogging: false });

async function finishedAt(promptId: string): Promise<number> {
  const history = await (await fetch(`${engine.url}/history/${promptId}`)).json();
  const messages: Array<[string, { timestamp?: number }]> = history[promptId].status.messages;
  const success = messages.find(([type]) => type === 'execution_success');
  if (!success?.[1].timestamp) throw new Error('no execution_success timestamp');
  return success[1].timestamp;
}

async function measure(mode: 'sse' | 'poll', index: number): Promise<number> {
  let runId = '';
  const text = `${mode} ${index}`;
  const result = await api.executeWorkflowAsync(
    'slow-delay',
    { default_value_1: text, value_4: 0.2 },
    undefined,
    2000,
    60_000,
    {
      mode,
      onIntermediateResponse: (update) => {
        if (update.type === 'workflow_submitted') runId = update.runId;
      },
    },
  );
  const resolvedAt = Date.now();
  if (result.data[0]?.file_content !== text) throw new Error(`wrong output ${JSON.stringify(result.data)}`);
  const run = (await api.getRun(runId)).data as unknown as { prompt_id: string };
  return resolvedAt - (await finishedAt(run.prompt_id));
}

const sse: number[] = [];
const poll: number[] = [];
for (let index = 0; index < 3; index++) await measure('sse', -index); // warm-up
for (let index = 0; index < Math.max(SSE_RUNS, POLL_RUNS); index++) {
  if (index < SSE_RUNS) sse.push(await measure('sse', index));
  if (index < POLL_RUNS) poll.push(await measure('poll', index));
}
const report = (label: string, values: number[]): void =>
  console.log(
    `${label.padEnd(26)} n=${values.length}  p50 ${fmt(median(values), 0)} ms  p99 ${fmt(percentile(values, 99), 0)} ms  max ${fmt(Math.max(...values), 0)} ms`,
  );
console.log(
  'time from execution_success on the engine to executeWorkflowAsync resolving (slow-delay 0.2 s):',
);
report('event stream (SSE)', sse);
report('polling every 2 s', poll);
console.log(
  `polling / event stream at the median: ${fmt(median(poll) / Math.max(1, median(sse)), 0)}× (goal SSE < 20 ms p50, < 50 ms p99)`,
);
await server.stop();
await engine.stop();
