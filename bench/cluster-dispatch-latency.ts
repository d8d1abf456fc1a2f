// Dispatch latency on an idle fleet: from a run being accepted (its created_at, and the 201 reaching the
// client) to its POST /prompt reaching the engine, timestamped by a relay in front of each engine (this
// process), so neither the engine nor the server is changed. Runs go one at a time, round-robin over the
// replicas; each completes before the next is sent. 3 replicas on Postgres (the goal: p50 ≤ 10 ms,
// p99 ≤ 50 ms), 1 replica on Postgres, and the baseline of 1 replica on SQLite, in one run, 2 engines.
//   node --conditions=flowscale-source --import tsx bench/cluster-dispatch-latency.ts [--samples 200] [--dev]
import { KEY, leaseSpread, nowMs, sleep, startEngines, startFleet } from './cluster-support';
import type { PromptArrival, PromptRelay } from './prompt-relay';
import { createBenchDatabase, fmt, median, percentile } from './server-support';

const SAMPLES = Number(process.argv[process.argv.indexOf('--samples') + 1]) || 200;
const WARMUP = 10;
const TIME_LIMIT_MS = 600_000;
setTimeout(() => {
  console.error('time limit reached');
  process.exit(1);
}, TIME_LIMIT_MS).unref();

interface Samples {
  spread: string;
  fromCreated: number[];
  from201: number[];
  fromSend: number[];
}

/** The next POST /prompt any relay sees. */
function nextArrival(relays: readonly PromptRelay[], timeoutMs: number): Promise<PromptArrival> {
  return new Promise((resolve, reject) => {
    const stops: Array<() => void> = [];
    const timer = setTimeout(() => {
      for (const stop of stops) stop();
      reject(new Error(`no POST /prompt within ${timeoutMs} ms`));
    }, timeoutMs);
    for (const relay of relays)
      stops.push(
        relay.onPrompt((arrival) => {
          clearTimeout(timer);
          for (const stop of stops) stop();
          resolve(arrival);
        }),
      );
  });
}

async function submit(url: string, index: number): Promise<string> {
  const form = new FormData();
  form.append('default_value_1', `dispatch ${index}`);
  const response = await fetch(`${url}/api/v1/runs?workflow_id=text-echo`, {
    method: 'POST',
    headers: { 'x-api-key': KEY },
    body: form,
  });
  if (response.status !== 201) throw new Error(`submit: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { data: { run_id: string } }).data.run_id;
}

const engines = await startEngines(2, true);

async function measure(label: string, database: 'postgres' | 'sqlite', replicas: number): Promise<Samples> {
  const fleet = await startFleet({ label, engines, replicas, database });
  const samples: Samples = { spread: '', fromCreated: [], from201: [], fromSend: [] };
  try {
    for (let index = 0; index < WARMUP + SAMPLES; index++) {
      const replica = fleet.replicas[index % replicas]!;
      const arrived = nextArrival(engines.relays, 10_000);
      const sentAt = nowMs();
      const runId = await submit(replica.url, index);
      const acceptedAt = nowMs();
      const arrival = await arrived;
      // Read from the database once the prompt is out, so the read does not compete with the dispatch.
      let row = await fleet.runs.get(runId);
      if (row?.promptId !== arrival.promptId) throw new Error(`run ${runId}: another prompt arrived first`);
      for (let waited = 0; row && row.status !== 'completed' && waited < 10_000; waited += 5) {
        if (row.status === 'failed' || row.status === 'cancelled')
          throw new Error(`run ${runId} ${row.status}`);
        await sleep(5);
        row = await fleet.runs.get(runId);
      }
      if (row?.status !== 'completed') throw new Error(`run ${runId} did not complete`);
      if (index >= WARMUP) {
        samples.fromCreated.push(arrival.at - row.createdAt);
        samples.from201.push(arrival.at - acceptedAt);
        samples.fromSend.push(arrival.at - sentAt);
      }
      await sleep(10); // the fleet settles (events written, leases idle) before the next run
    }
    samples.spread = await leaseSpread(fleet);
  } finally {
    await fleet.stop();
  }
  return samples;
}

const row = (label: string, values: number[]): string =>
  `${label.padEnd(22)} p50 ${fmt(median(values), 1).padStart(6)} ms  p99 ${fmt(percentile(values, 99), 1).padStart(6)} ms  max ${fmt(Math.max(...values), 1).padStart(6)} ms`;

/** What one Postgres round trip costs on this machine: the floor under every statement on the path. */
async function roundTrips(): Promise<{ select: number[]; commit: number[] }> {
  const { default: pg } = await import('pg');
  const database = await createBenchDatabase('rtt');
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  const select: number[] = [];
  const commit: number[] = [];
  try {
    await client.query('CREATE TABLE t (id serial PRIMARY KEY, v text)');
    for (let index = 0; index < 200; index++) {
      let started = performance.now();
      await client.query('SELECT 1');
      select.push(performance.now() - started);
      started = performance.now();
      await client.query('INSERT INTO t (v) VALUES ($1)', [`row ${index}`]); // its own transaction: a commit
      commit.push(performance.now() - started);
    }
  } finally {
    await client.end();
    await database.drop();
  }
  return { select, commit };
}

const rtt = await roundTrips();
const results: Array<[string, Samples]> = [];
results.push(['1 replica, SQLite', await measure('dl-sqlite', 'sqlite', 1)]);
results.push(['1 replica, Postgres', await measure('dl-pg1', 'postgres', 1)]);
results.push(['3 replicas, Postgres', await measure('dl-pg3', 'postgres', 3)]);
await engines.stop();

console.log(
  `dispatch latency, idle fleet of 2 engines, ${SAMPLES} text-echo runs one at a time (round-robin over replicas):`,
);
for (const [label, samples] of results) {
  console.log(`${label} (${samples.spread}):`);
  console.log(`  ${row('created_at → POST /prompt', samples.fromCreated)}`);
  console.log(`  ${row('201 → POST /prompt', samples.from201)}`);
  console.log(`  ${row('send → POST /prompt', samples.fromSend)}`);
}
console.log(
  `one Postgres round trip from Node here: SELECT 1 p50 ${fmt(median(rtt.select), 2)} ms, autocommit INSERT p50 ${fmt(median(rtt.commit), 2)} ms (p99 ${fmt(percentile(rtt.commit, 99), 2)} ms)`,
);
const [, baseline] = results[0]!;
const [, cluster] = results[2]!;
console.log(
  `3 replicas on Postgres vs 1 on SQLite at p50 (created_at → POST /prompt): ${fmt(median(cluster.fromCreated), 1)} vs ${fmt(median(baseline.fromCreated), 1)} ms; goal p50 ≤ 10 ms, p99 ≤ 50 ms`,
);
