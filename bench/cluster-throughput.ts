// 1,000 concurrent text-echo runs through 1 replica and through 3 replicas on Postgres, and through 1 on
// SQLite, all in front of the same 2 engines, each against the same 1,000 prompts posted concurrently
// straight to the engines (half to each) just before it: the paired ratio is the figure. Goal ≥ 80 %.
// Timing: from the first submission to the last run's completed_at in the database (same machine clock),
// read beside the servers, so no replica is asked for progress. Every run is then checked: completed, its
// own output text, and exactly one engine execution per run (output files the engines wrote).
//   node --conditions=flowscale-source --import tsx bench/cluster-throughput.ts [--runs 1000] [--dev]
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { FlowscaleAPI } from 'flowscale';
import WebSocket from 'ws';
import {
  cpuBetween,
  cpuSnapshot,
  type Engines,
  type Fleet,
  KEY,
  leaseSpread,
  nowMs,
  sleep,
  startEngines,
  startFleet,
} from './cluster-support';
import { cpuMsOf, fmt } from './server-support';

const RUNS = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 1000;
const WARMUP = 20;
const SAVED_PREFIX = 'filename_prefix_3_';
setTimeout(() => {
  console.error('time limit reached');
  process.exit(1);
}, 1_200_000).unref();
const graphTemplate = JSON.parse(fs.readFileSync('packages/server/workflows/text-echo.json', 'utf8'));

/** The same prompts straight to the engines (alternating), done when each engine says `executing null`. */
async function direct(engines: Engines): Promise<{ seconds: number; engineCpuMs: number }> {
  const engineCpu = () => engines.engines.reduce((sum, engine) => sum + cpuMsOf(engine.child.pid!), 0);
  const cpuBefore = engineCpu();
  const clientId = randomUUID();
  const pending = new Set<string>();
  let finish!: () => void;
  const allDone = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const sockets = await Promise.all(
    engines.engines.map(async (engine) => {
      const socket = new WebSocket(`${engine.url.replace(/^http/, 'ws')}/ws?clientId=${clientId}`);
      await new Promise((resolve) => socket.once('open', resolve));
      socket.on('message', (raw, isBinary) => {
        if (isBinary) return;
        const message = JSON.parse(raw.toString());
        if (message.type !== 'executing' || message.data.node !== null) return;
        if (pending.delete(message.data.prompt_id) && pending.size === 0) finish();
      });
      return socket;
    }),
  );
  const started = performance.now();
  await Promise.all(
    Array.from({ length: RUNS }, async (_, index) => {
      const graph = structuredClone(graphTemplate);
      graph['1'].inputs.default_value = `direct ${index}`;
      graph['3'].inputs.filename_prefix = `direct_${index}_`;
      const promptId = randomUUID();
      pending.add(promptId);
      const engine = engines.engines[index % engines.engines.length]!;
      const response = await fetch(`${engine.url}/prompt`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: graph, prompt_id: promptId, client_id: clientId }),
      });
      if (!response.ok) throw new Error(`engine refused a prompt: ${response.status}`);
    }),
  );
  await allDone;
  const seconds = (performance.now() - started) / 1000;
  for (const socket of sockets) socket.close();
  return { seconds, engineCpuMs: engineCpu() - cpuBefore };
}

async function waitFinished(fleet: Fleet, expected: number): Promise<number> {
  for (let waited = 0; waited < 600_000; waited += 50) {
    const finished = await fleet.runs.finished();
    if (finished.failed > 0) throw new Error(`${finished.failed} runs failed`);
    if (finished.completed >= expected) return finished.lastCompletedAt;
    await sleep(50);
  }
  throw new Error('runs did not complete in time');
}

interface Outcome {
  seconds: number;
  /** CPU ms per run by part: replicas, postgres, engines, client. */
  cpu: Record<string, number>;
  wrong: number;
  executions: number;
}

async function throughServer(engines: Engines, fleet: Fleet): Promise<Outcome> {
  const apis = fleet.replicas.map(
    (replica) => new FlowscaleAPI({ apiKey: KEY, baseUrl: replica.url, enableLogging: false }),
  );
  const submit = (count: number, label: string) =>
    Promise.all(
      Array.from({ length: count }, (_, index) =>
        apis[index % apis.length]!.executeWorkflow('text-echo', { default_value_1: `${label} ${index}` }),
      ),
    );
  await submit(WARMUP, 'warm-up');
  await waitFinished(fleet, WARMUP);
  const executionsBefore = engines.outputFiles(SAVED_PREFIX);
  const cpuBefore = await cpuSnapshot(fleet, engines);
  const started = nowMs();
  const submitted = await submit(RUNS, 'run');
  const lastCompletedAt = await waitFinished(fleet, WARMUP + RUNS);
  const seconds = (lastCompletedAt - started) / 1000;
  const cpu = cpuBetween(cpuBefore, await cpuSnapshot(fleet, engines));
  for (const part of Object.keys(cpu)) cpu[part] = (cpu[part] ?? 0) / RUNS;
  let wrong = 0;
  for (let start = 0; start < RUNS; start += 50) {
    await Promise.all(
      submitted.slice(start, start + 50).map(async (response, offset) => {
        const index = start + offset;
        const api = apis[index % apis.length]!;
        const run = (await api.getRun(response.data.run_id)).data;
        const output = await api.getOutput(run.output_names?.[0] ?? '');
        if (run.status !== 'completed' || output?.data.file_content !== `run ${index} from FlowScale`)
          wrong++;
      }),
    );
  }
  if (new Set(submitted.map((response) => response.data.run_id)).size !== RUNS) wrong = RUNS;
  return { seconds, cpu, wrong, executions: engines.outputFiles(SAVED_PREFIX) - executionsBefore };
}

const engines = await startEngines(2, false);
const configs: Array<[string, 'postgres' | 'sqlite', number]> = [
  ['1 replica, Postgres', 'postgres', 1],
  ['3 replicas, Postgres', 'postgres', 3],
  ['1 replica, SQLite', 'sqlite', 1],
];
const lines: string[] = [];
let failedChecks = false;
for (const [label, database, replicas] of configs) {
  const fleet = await startFleet({ label: `tp-${database}${replicas}`, engines, replicas, database });
  try {
    const baseline = await direct(engines);
    const outcome = await throughServer(engines, fleet);
    const spread = await leaseSpread(fleet);
    const ratio = (100 * baseline.seconds) / outcome.seconds;
    const cpu = Object.entries(outcome.cpu)
      .filter(([part]) => database === 'postgres' || part !== 'postgres')
      .map(([part, ms]) => `${part} ${fmt(ms, 2)}`)
      .join(', ');
    lines.push(
      `${label.padEnd(22)} ${fmt(RUNS / outcome.seconds, 0).padStart(5)} runs/s (${fmt(outcome.seconds, 2)} s)  direct ${fmt(RUNS / baseline.seconds, 0).padStart(5)} runs/s (${fmt(baseline.seconds, 2)} s)  → ${fmt(ratio)} % of direct`,
      `${''.padEnd(22)} ${spread}`,
      `${''.padEnd(22)} CPU ms per run: ${cpu} (direct: engines ${fmt(baseline.engineCpuMs / RUNS, 2)});  check: wrong or missing ${outcome.wrong}, engine executions ${outcome.executions}/${RUNS}`,
    );
    if (outcome.wrong !== 0 || outcome.executions !== RUNS) failedChecks = true;
  } finally {
    await fleet.stop();
  }
}
await engines.stop();
console.log(
  `${RUNS} concurrent text-echo runs, 2 engines; direct = the same prompts straight to the engines, just before:`,
);
for (const line of lines) console.log(line);
console.log('goal: ≥ 80 % of direct');
if (failedChecks) process.exitCode = 1;
