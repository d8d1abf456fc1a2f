// P1 across replicas: from a run finishing on its backend (the engine's execution_success timestamp, same
// machine clock) to executeWorkflowAsync resolving, with the client attached to a replica that does NOT own
// the run's backend, so every event reaches it through Postgres (NOTIFY, then a read of the shared log).
// In the same run: runs whose client is on the replica owning the backend (interleaved), and first the
// embedded default, 1 replica on SQLite, as the baseline.
// 3 replicas on Postgres, 2 engines. Goal (across replicas): p50 < 20 ms, p99 < 50 ms.
//   node --conditions=flowscale-source --import tsx bench/cluster-notify-latency.ts [--runs 100] [--dev]
import { FlowscaleAPI } from 'flowscale';
import { type Fleet, KEY, leaseSpread, startEngines, startFleet } from './cluster-support';
import { fmt, median, percentile, type SpawnedService } from './server-support';

const RUNS = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 100;
const WARMUP = 3;
setTimeout(() => {
  console.error('time limit reached');
  process.exit(1);
}, 900_000).unref();

const idOf = (replica: SpawnedService): string | undefined =>
  replica
    .output()
    .split('\n')
    .filter((line) => line.includes('"took over backends"'))
    .map((line) => (JSON.parse(line) as { replica: string }).replica)[0];

async function finishedAt(engineUrl: string, promptId: string): Promise<number> {
  const history = await (await fetch(`${engineUrl}/history/${promptId}`)).json();
  const messages: Array<[string, { timestamp?: number }]> = history[promptId].status.messages;
  const success = messages.find(([type]) => type === 'execution_success');
  if (!success?.[1].timestamp) throw new Error('no execution_success timestamp');
  return success[1].timestamp;
}

/** One run through `replica`; the latency, and the replica id owning the run's backend when it ended. */
async function measure(fleet: Fleet, replica: SpawnedService, index: number): Promise<[number, string]> {
  const api = new FlowscaleAPI({ apiKey: KEY, baseUrl: replica.url, enableLogging: false });
  let runId = '';
  const text = `notify ${index}`;
  const result = await api.executeWorkflowAsync(
    'slow-delay',
    { default_value_1: text, value_4: 0.2 },
    undefined,
    2000,
    60_000,
    {
      mode: 'sse',
      onIntermediateResponse: (update) => {
        if (update.type === 'workflow_submitted') runId = update.runId;
      },
    },
  );
  const resolvedAt = Date.now();
  if (result.data[0]?.file_content !== text) throw new Error(`wrong output ${JSON.stringify(result.data)}`);
  const run = await fleet.runs.get(runId);
  if (!run?.backendId) throw new Error(`run ${runId} has no backend`);
  const [lease] = fleet.database
    ? await fleet.runs.query<{ owner: string }>('SELECT owner FROM backend_leases WHERE backend_id = $1', [
        run.backendId,
      ])
    : [];
  const finished = await finishedAt(run.backendId, run.promptId);
  if (process.env.FS_BENCH_VERBOSE)
    console.log(
      `completed_at − engine ${(run.completedAt ?? 0) - finished} ms, resolved − completed_at ${resolvedAt - (run.completedAt ?? 0)} ms`,
    );
  return [resolvedAt - finished, lease?.owner ?? ''];
}

const engines = await startEngines(2, false);

/** The embedded default, same engines: 1 replica on SQLite, every run followed on it. */
async function baseline(): Promise<number[]> {
  const fleet = await startFleet({ label: 'notify-sqlite', engines, replicas: 1, database: 'sqlite' });
  const latencies: number[] = [];
  try {
    for (let index = 0; index < WARMUP + RUNS; index++) {
      const [latency] = await measure(fleet, fleet.replicas[0]!, index);
      if (index >= WARMUP) latencies.push(latency);
    }
  } finally {
    await fleet.stop();
  }
  return latencies;
}

const sqlite = await baseline();
const fleet = await startFleet({
  label: 'notify',
  engines,
  replicas: 3,
  database: 'postgres',
  logLevel: 'info',
});
const spread = await leaseSpread(fleet);
// Round-robin over the replicas; each run counts as "across" when its backend's owner is not the replica
// the client followed it on (with one replica owning both backends, 2 runs in 3 are).
const across: number[] = [];
const same: number[] = [];
try {
  for (let index = 0; across.length < RUNS && index < 4 * (RUNS + WARMUP); index++) {
    const replica = fleet.replicas[index % fleet.replicas.length]!;
    const [latency, owner] = await measure(fleet, replica, index);
    if (index < WARMUP) continue;
    (owner === idOf(replica) ? same : across).push(latency);
  }
} finally {
  await fleet.stop();
  await engines.stop();
}
const report = (label: string, values: number[]): void =>
  console.log(
    `${label.padEnd(44)} n=${values.length}  p50 ${fmt(median(values), 0)} ms  p99 ${fmt(percentile(values, 99), 0)} ms  max ${fmt(Math.max(...values), 0)} ms`,
  );
console.log(
  `execution_success on the engine → executeWorkflowAsync resolved (SSE, slow-delay 0.2 s), 3 replicas on Postgres (${spread}):`,
);
report('client on a replica not owning the run', across);
report('client on the owning replica', same);
report('1 replica on SQLite (baseline, same engines)', sqlite);
console.log('goal across replicas: p50 < 20 ms, p99 < 50 ms');
