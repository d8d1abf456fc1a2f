// Adoption after kill -9: 3 replicas on Postgres, 2 engines behind relays that count every POST /prompt
// per prompt_id. Each trial submits 4 slow runs (slow-delay, 1 s each) round-robin over the replicas, waits
// until one is running plus 200 ms, and kill -9s the replica holding the lease of that run's backend.
// Which process that is: the owner in backend_leases, matched to the replica process whose log said
// "took over backends" with that replica id (replicas run at log level info; the id is in that line).
// Measured from the kill: the victim's backends' leases taken by other replicas (the adopter's log time);
// the first event of a run on the busy backend written after the kill; and "every run in flight adopted":
// each run the victim had (on its backends, or fetched from the queue and not yet placed) is in a live
// replica's hands again: its backend's lease taken, or, if unplaced, placed (submitted_at). A fresh
// replica replaces the dead one before the next trial. Goal: adoption ≤ 10 s, 0 duplicate POST /prompt.
//   node --conditions=flowscale-source --import tsx bench/cluster-adoption.ts [--ttl 10000] [--trials 100]
//     [--budget-s 600] [--dev]
import { type Fleet, KEY, nowMs, sleep, startEngines, startFleet } from './cluster-support';
import { duplicatePosts } from './prompt-relay';
import { fmt, median, percentile, type SpawnedService } from './server-support';

const arg = (name: string, fallback: number): number =>
  Number(process.argv[process.argv.indexOf(`--${name}`) + 1]) || fallback;
const TTL_MS = arg('ttl', 10_000);
const TRIALS = arg('trials', 100);
const BUDGET_MS = arg('budget-s', 600) * 1000;
const RUNS_PER_TRIAL = 4;
const SAVED_PREFIX = 'filename_prefix_3_';
const TERMINAL = ['completed', 'failed', 'cancelled'];
setTimeout(() => {
  console.error('time limit reached');
  process.exit(1);
}, BUDGET_MS + 300_000).unref();

/** Replica id → when it logged taking over which backends (pino lines at level info). */
function takeovers(replica: SpawnedService): Array<{ replica: string; backends: string[]; time: number }> {
  return replica
    .output()
    .split('\n')
    .filter((line) => line.includes('"took over backends"'))
    .map((line) => {
      // The server logs ISO times (`time` was epoch milliseconds before).
      const entry = JSON.parse(line) as { replica: string; backends: string[]; time: number | string };
      return { ...entry, time: typeof entry.time === 'string' ? Date.parse(entry.time) : entry.time };
    });
}

const idOf = (replica: SpawnedService): string | undefined => takeovers(replica)[0]?.replica;

async function submit(url: string, text: string): Promise<string> {
  const form = new FormData();
  form.append('default_value_1', text);
  form.append('value_4', '1.0');
  const response = await fetch(`${url}/api/v1/runs?workflow_id=slow-delay`, {
    method: 'POST',
    headers: { 'x-api-key': KEY },
    body: form,
  });
  if (response.status !== 201) throw new Error(`submit: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { data: { run_id: string } }).data.run_id;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(20)) {
    const value = await probe();
    if (value !== undefined) return value;
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

/** Both backends leased to live replicas whose ids are known. */
async function settled(fleet: Fleet): Promise<void> {
  await until('backends leased', 60_000, async () => {
    const leases = await fleet.runs.query<{ owner: string }>(
      'SELECT owner FROM backend_leases WHERE expires_at > now()',
    );
    const live = new Set(fleet.live().map(idOf));
    return leases.length === 2 && leases.every((lease) => live.has(lease.owner)) ? true : undefined;
  });
}

interface Trial {
  /** The last of the victim's backends taken by another replica (its log time). */
  leaseMs: number;
  /** The first event of a run on the busy backend written after the kill. */
  progressMs: number;
  /**
   * Every run the victim had in flight is in a live replica's hands again: its backend's lease taken, or,
   * for a run not yet placed at the kill (e.g. fetched from the queue by the victim), placed by a live
   * replica (its submitted_at).
   */
  adoptionMs: number;
  completedMs: number;
  placedAtKill: number;
  unplacedAtKill: number;
}

interface RunAtKill {
  id: string;
  backend_id: string | null;
  status: string;
}

async function trial(fleet: Fleet, index: number): Promise<Trial> {
  await settled(fleet);
  const live = fleet.live();
  const runIds = await Promise.all(
    Array.from({ length: RUNS_PER_TRIAL }, (_, run) =>
      submit(live[run % live.length]!.url, `trial ${index} run ${run}`),
    ),
  );
  const running = await until('a run running', 30_000, async () => {
    const rows = await fleet.runs.query<{ backend_id: string }>(
      "SELECT backend_id FROM runs WHERE id = ANY($1) AND status = 'running'",
      [runIds],
    );
    return rows[0]?.backend_id;
  });
  const [lease] = await fleet.runs.query<{ owner: string }>(
    'SELECT owner FROM backend_leases WHERE backend_id = $1',
    [running],
  );
  const victim = live.find((replica) => idOf(replica) === lease?.owner);
  if (!victim) throw new Error(`no live replica process has the id ${lease?.owner}`);
  const owned = (
    await fleet.runs.query<{ backend_id: string }>('SELECT backend_id FROM backend_leases WHERE owner = $1', [
      lease?.owner,
    ])
  ).map((row) => row.backend_id);
  await sleep(200); // mid-execution
  const atKill = await fleet.runs.query<RunAtKill>(
    'SELECT id, backend_id, status FROM runs WHERE id = ANY($1)',
    [runIds],
  );
  const killedAt = nowMs();
  victim.child.kill('SIGKILL');
  const inFlight = atKill.filter(
    (run) => !TERMINAL.includes(run.status) && (run.backend_id === null || owned.includes(run.backend_id)),
  );
  const progressAt = await until('progress after the kill', 60_000, async () => {
    const [row] = await fleet.runs.query<{ ts: Date | null }>(
      'SELECT min(e.ts) AS ts FROM run_events e JOIN runs r ON r.id = e.run_id WHERE r.id = ANY($1) AND r.backend_id = $2 AND e.ts > $3',
      [runIds, running, new Date(killedAt)],
    );
    return row?.ts ? row.ts.getTime() : undefined;
  });
  const leaseAt = await until('leases taken', 60_000, async () => {
    const taken = owned.map((backend) => {
      const times = fleet
        .live()
        .flatMap((replica) => takeovers(replica))
        .filter((takeover) => takeover.backends.includes(backend) && takeover.time > killedAt)
        .map((takeover) => takeover.time);
      return times.length > 0 ? Math.min(...times) : undefined;
    });
    return taken.every((time) => time !== undefined) ? Math.max(...(taken as number[])) : undefined;
  });
  const completedAt = await until('trial runs completed', 300_000, async () => {
    const rows = await fleet.runs.query<{ status: string }>('SELECT status FROM runs WHERE id = ANY($1)', [
      runIds,
    ]);
    if (rows.some((row) => row.status === 'failed' || row.status === 'cancelled'))
      throw new Error(`trial ${index}: a run ended ${rows.map((row) => row.status).join(',')}`);
    return rows.every((row) => TERMINAL.includes(row.status)) ? nowMs() : undefined;
  });
  const unplaced = inFlight.filter((run) => run.backend_id === null).map((run) => run.id);
  const [placed] = await fleet.runs.query<{ at: Date | null }>(
    'SELECT max(submitted_at) AS at FROM runs WHERE id = ANY($1)',
    [unplaced],
  );
  const adoptionAt = Math.max(leaseAt, placed?.at ? placed.at.getTime() : killedAt);
  if (adoptionAt - killedAt > 2 * TTL_MS) await explainSlow(fleet, runIds, killedAt, running);
  await fleet.startReplica();
  return {
    leaseMs: leaseAt - killedAt,
    progressMs: progressAt - killedAt,
    adoptionMs: adoptionAt - killedAt,
    completedMs: completedAt - killedAt,
    placedAtKill: inFlight.length - unplaced.length,
    unplacedAtKill: unplaced.length,
  };
}

/** A trial whose runs took long after the kill: print each run's events, to see where it waited. */
async function explainSlow(fleet: Fleet, runIds: string[], killedAt: number, backend: string): Promise<void> {
  const events = await fleet.runs.query<{
    run_id: string;
    seq: number;
    type: string;
    ts: Date;
    backend_id: string;
  }>(
    'SELECT e.run_id, e.seq, e.type, e.ts, r.backend_id FROM run_events e JOIN runs r ON r.id = e.run_id WHERE r.id = ANY($1) ORDER BY e.run_id, e.seq',
    [runIds],
  );
  const jobs = await fleet.runs.query<{
    run: string;
    state: string;
    retry_count: number;
    started_on: Date | null;
  }>(
    "SELECT data->>'runId' AS run, state, retry_count, started_on FROM pgboss.job WHERE data->>'runId' = ANY($1)",
    [runIds],
  );
  console.log(`  slow trial: killed the owner of ${backend}; queue jobs:`);
  for (const job of jobs)
    console.log(
      `    ${job.run.slice(0, 8)} ${job.state} retries ${job.retry_count} started ${job.started_on ? fmt((job.started_on.getTime() - killedAt) / 1000, 2) : '-'}`,
    );
  console.log('  events (s from the kill):');
  for (const event of events)
    console.log(
      `    ${event.run_id.slice(0, 8)} on ${event.backend_id} #${event.seq} ${event.type} ${fmt((event.ts.getTime() - killedAt) / 1000, 2)}`,
    );
}

const engines = await startEngines(2, true);
const fleet = await startFleet({
  label: 'adoption',
  engines,
  replicas: 3,
  database: 'postgres',
  env: { FLOWSCALE_LEASE_TTL_MS: String(TTL_MS) },
  logLevel: 'info',
});
const trials: Trial[] = [];
const started = Date.now();
let failure: unknown;
try {
  while (trials.length < TRIALS && Date.now() - started < BUDGET_MS) {
    const result = await trial(fleet, trials.length);
    trials.push(result);
    console.log(
      `trial ${String(trials.length).padStart(3)}: in flight at the kill ${result.placedAtKill} placed + ${result.unplacedAtKill} not yet placed; leases taken ${fmt(result.leaseMs / 1000, 2)} s, first progress ${fmt(result.progressMs / 1000, 2)} s, all in flight adopted ${fmt(result.adoptionMs / 1000, 2)} s, trial runs completed ${fmt(result.completedMs / 1000, 2)} s after the kill`,
    );
  }
} catch (error) {
  failure = error;
}
await settled(fleet).catch(() => undefined);
await sleep(2000); // late re-posts, if any, reach the relays
const [{ n: runs } = { n: 0 }] = await fleet.runs.query<{ n: number }>('SELECT count(*)::int AS n FROM runs');
const [{ n: completed } = { n: 0 }] = await fleet.runs.query<{ n: number }>(
  "SELECT count(*)::int AS n FROM runs WHERE status = 'completed'",
);
const posted = engines.relays.reduce((sum, relay) => sum + relay.arrivals.size, 0);
const duplicates = duplicatePosts(engines.relays);
const executions = engines.outputFiles(SAVED_PREFIX);
await fleet.stop();
await engines.stop();

const seconds = (pick: (trial: Trial) => number): number[] => trials.map((trial) => pick(trial) / 1000);
const summary = (label: string, values: number[]): void =>
  console.log(
    `  ${label.padEnd(34)} p50 ${fmt(median(values), 2)} s  p99 ${fmt(percentile(values, 99), 2)} s  max ${fmt(Math.max(...values), 2)} s`,
  );
const adoption = seconds((trial) => trial.adoptionMs);
console.log(
  `kill -9 of the replica owning the busy backend, FLOWSCALE_LEASE_TTL_MS=${TTL_MS}, 3 replicas, 2 engines, ${trials.length} trials in ${fmt((Date.now() - started) / 1000, 0)} s (asked ${TRIALS}, budget ${BUDGET_MS / 1000} s):`,
);
summary(
  "leases of the victim's backends taken",
  seconds((trial) => trial.leaseMs),
);
summary(
  'first progress on the busy backend',
  seconds((trial) => trial.progressMs),
);
summary('every run in flight adopted', adoption);
console.log(
  `  trials over 10 s: ${adoption.filter((value) => value > 10).length}; runs ${runs}, completed ${completed}, prompts posted ${posted}, duplicate POST /prompt ${duplicates}, engine executions ${executions}`,
);
console.log('goal: adoption ≤ 10 s, 0 duplicate POST /prompt');
if (failure) {
  console.error('stopped early:', failure);
  process.exitCode = 1;
}
if (duplicates > 0 || completed !== runs || executions !== runs) process.exitCode = 1;
