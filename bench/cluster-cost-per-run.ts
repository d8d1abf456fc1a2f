// P9, cost per run: server CPU milliseconds (from /proc of the server process) and SQL statements per run,
// from submit to completed, for one replica on SQLite and one on Postgres (2 engines), in one run.
// Statements are counted inside the server process by a preload (bench/statement-counter.mjs): every
// Postgres round trip (pg.Client#query, so BEGIN and COMMIT count, pg-boss and the LISTEN connection too)
// and every SQLite statement executed. What the idle server spends in the same time (lease renewals,
// queue polls, rate-limit sync) is measured first and subtracted. Goal: ≤ 2 ms CPU and ≤ 15 statements.
// Modes: `submit` = the SDK's executeWorkflow (with its idempotency key), completion read from the
// database; `sdk` = executeWorkflowAsync (submit, follow the event stream, fetch the output).
//   node --conditions=flowscale-source --import tsx bench/cluster-cost-per-run.ts [--runs 200] [--database sqlite|postgres] [--dev]
import { FlowscaleAPI } from 'flowscale';
import {
  type Fleet,
  KEY,
  type StatementCounts,
  sleep,
  startEngines,
  startFleet,
  statementsBetween,
  statementsOf,
} from './cluster-support';
import { cpuMsOf, fmt, type SpawnedService } from './server-support';

const RUNS = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 200;
const CONCURRENT = 500;
const IDLE_MS = 5000;
const WARMUP = 30;
setTimeout(() => {
  console.error('time limit reached');
  process.exit(1);
}, 900_000).unref();

interface Snapshot {
  at: number;
  cpuMs: number;
  statements: StatementCounts;
}

const snapshot = async (replica: SpawnedService): Promise<Snapshot> => ({
  at: performance.now(),
  cpuMs: cpuMsOf(replica.child.pid!),
  statements: await statementsOf(replica),
});

interface Cost {
  cpuMs: number;
  statements: number;
  byStatement: Array<[string, number]>;
  seconds: number;
}

/** Per run, net of what the idle server spends at `idle` per ms over the same time. */
function costPerRun(before: Snapshot, after: Snapshot, runs: number, idle: Cost): Cost {
  const elapsed = after.at - before.at;
  const delta = statementsBetween(before.statements, after.statements);
  const idleShare = elapsed / (idle.seconds * 1000);
  const idleByKey = new Map(idle.byStatement);
  const byStatement = Object.entries(delta.byStatement)
    .map(([key, count]): [string, number] => [key, (count - (idleByKey.get(key) ?? 0) * idleShare) / runs])
    .filter(([, perRun]) => perRun >= 0.05)
    .sort((a, b) => b[1] - a[1]);
  return {
    cpuMs: (after.cpuMs - before.cpuMs - idle.cpuMs * idleShare) / runs,
    statements: (delta.total - idle.statements * idleShare) / runs,
    byStatement,
    seconds: elapsed / 1000,
  };
}

async function waitFinished(fleet: Fleet, expected: number): Promise<void> {
  for (let waited = 0; waited < 300_000; waited += 20) {
    const { completed, failed } = await fleet.runs.finished();
    if (failed > 0) throw new Error(`${failed} runs failed`);
    if (completed >= expected) return;
    await sleep(20);
  }
  throw new Error('runs did not complete in time');
}

async function measure(database: 'sqlite' | 'postgres'): Promise<Record<string, Cost>> {
  const engines = await startEngines(2, false);
  const fleet = await startFleet({
    label: `cost-${database}`,
    engines,
    replicas: 1,
    database,
    countStatements: true,
  });
  const replica = fleet.replicas[0]!;
  const api = new FlowscaleAPI({ apiKey: KEY, baseUrl: replica.url, enableLogging: false });
  let done = 0;
  const submit = async (count: number, label: string): Promise<void> => {
    await Promise.all(
      Array.from({ length: count }, (_, index) =>
        api.executeWorkflow('text-echo', { default_value_1: `${label} ${index}` }),
      ),
    );
  };
  try {
    for (let index = 0; index < WARMUP; index++) await submit(1, 'warm-up');
    done += WARMUP;
    await waitFinished(fleet, done);
    await sleep(500);
    const idleStart = await snapshot(replica);
    await sleep(IDLE_MS);
    const idleEnd = await snapshot(replica);
    const idleDelta = statementsBetween(idleStart.statements, idleEnd.statements);
    const idle: Cost = {
      cpuMs: idleEnd.cpuMs - idleStart.cpuMs,
      statements: idleDelta.total,
      byStatement: Object.entries(idleDelta.byStatement),
      seconds: (idleEnd.at - idleStart.at) / 1000,
    };
    const results: Record<string, Cost> = { idle };

    let before = await snapshot(replica);
    for (let index = 0; index < RUNS; index++) {
      await submit(1, 'one');
      await waitFinished(fleet, ++done);
    }
    results[`submit, one at a time (${RUNS})`] = costPerRun(before, await snapshot(replica), RUNS, idle);

    before = await snapshot(replica);
    await submit(CONCURRENT, 'burst');
    done += CONCURRENT;
    await waitFinished(fleet, done);
    results[`submit, ${CONCURRENT} at once`] = costPerRun(before, await snapshot(replica), CONCURRENT, idle);

    before = await snapshot(replica);
    for (let index = 0; index < RUNS; index++) {
      const text = `sdk ${index}`;
      const result = await api.executeWorkflowAsync('text-echo', { default_value_1: text });
      if (result.data[0]?.file_content !== `${text} from FlowScale`) throw new Error('wrong output');
    }
    done += RUNS;
    results[`executeWorkflowAsync, one at a time (${RUNS})`] = costPerRun(
      before,
      await snapshot(replica),
      RUNS,
      idle,
    );
    return results;
  } finally {
    await fleet.stop();
    await engines.stop();
  }
}

const only = process.argv.includes('--database')
  ? process.argv[process.argv.indexOf('--database') + 1]
  : undefined;
const all: Array<[string, Record<string, Cost>]> = [];
if (only !== 'postgres') all.push(['SQLite', await measure('sqlite')]);
if (only !== 'sqlite') all.push(['Postgres', await measure('postgres')]);
console.log('server cost per text-echo run, 1 replica, 2 engines, net of the idle server:');
for (const [database, results] of all) {
  const idle = results.idle!;
  console.log(
    `${database}: idle ${fmt(idle.cpuMs / idle.seconds, 1)} ms CPU/s, ${fmt(idle.statements / idle.seconds, 1)} statements/s`,
  );
  for (const [mode, cost] of Object.entries(results)) {
    if (mode === 'idle') continue;
    console.log(
      `  ${mode.padEnd(42)} ${fmt(cost.cpuMs, 2).padStart(6)} ms CPU  ${fmt(cost.statements, 1).padStart(5)} statements  (${fmt(cost.seconds, 1)} s)`,
    );
  }
  for (const [key, count] of [...idle.byStatement].sort((a, b) => b[1] - a[1]).slice(0, 6))
    console.log(`    idle ${fmt(count / idle.seconds, 2).padStart(6)}/s  ${key}`);
  const [, first] = Object.entries(results)[1]!;
  console.log(`  statements per run (${Object.keys(results)[1]}):`);
  for (const [key, perRun] of first.byStatement.slice(0, Number(process.env.FS_BENCH_STATEMENTS) || 14))
    console.log(`    ${fmt(perRun, 2).padStart(6)}  ${key}`);
}
console.log('goal: ≤ 2 ms CPU and ≤ 15 statements per run (today 7.9 ms CPU)');
