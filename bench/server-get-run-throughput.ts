// GET /api/v1/runs/{id} through the full server (auth, routing, cached view) against bare node:http serving
// the very same JSON bytes, measured in the same run with the same load generator, with the server on
// SQLite and on Postgres (a fresh database, dropped at the end). Both servers run side by side and every
// round measures bare, server, bare, server for each back to back, so a noisy neighbour hits both sides of
// each ratio alike. Goal: ≥ 80 % on SQLite, ≥ 50 % on Postgres.
//   node --conditions=flowscale-source --import tsx bench/server-get-run-throughput.ts [--database sqlite|postgres]
import fs from 'node:fs';
import http from 'node:http';
import { startServer } from '@flowscale/server';
import { type BenchDatabase, createBenchDatabase, fmt, loadTest, median, tempDir } from './server-support';

const KEY = 'bench-key-0123456789abcdef';
const ROUNDS = 7;
const DURATION_MS = 3000;
const CONNECTIONS = 50;
const only = process.argv.includes('--database')
  ? process.argv[process.argv.indexOf('--database') + 1]
  : undefined;
const databases = (['sqlite', 'postgres'] as const).filter((database) => !only || only === database);
const goals = { sqlite: 80, postgres: 50 };
const headers = { 'x-api-key': KEY };

async function finishedRun(url: string): Promise<{ runId: string; body: string }> {
  const form = new FormData();
  form.append('default_value_1', 'bench');
  const submitted = await (
    await fetch(`${url}/api/v1/runs?workflow_id=text-echo`, { method: 'POST', headers, body: form })
  ).json();
  const runId: string = submitted.data.run_id;
  let body = '';
  for (let attempt = 0; attempt < 100; attempt++) {
    body = await (await fetch(`${url}/api/v1/runs/${runId}`, { headers })).text();
    if (JSON.parse(body).data.status === 'completed') break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { runId, body };
}

interface Target {
  database: 'sqlite' | 'postgres';
  serverUrl: string;
  bareUrl: string;
  bodyBytes: number;
  bareRps: number[];
  serverRps: number[];
  ratios: number[];
  errors: number;
  close(): Promise<void>;
}

async function target(database: 'sqlite' | 'postgres'): Promise<Target> {
  const pg: BenchDatabase | undefined =
    database === 'postgres' ? await createBenchDatabase('get_run') : undefined;
  const dataDir = tempDir('rps');
  // One key at thousands of requests a second would trip any sane per-key rate limit, so the limit is off by
  // default here. BENCH_RATE_LIMIT=1000000000/min keeps the limiter on the path without ever tripping it,
  // to measure what the bucket update costs (docs/server-benchmarks.md).
  const server = await startServer({
    port: 0,
    dataDir,
    apiKeys: [KEY],
    logLevel: 'error',
    rateLimit: process.env.BENCH_RATE_LIMIT ?? 0,
    ...(pg ? { databaseUrl: pg.url } : {}),
  });
  const { runId, body } = await finishedRun(server.url);
  const bare = http.createServer((_request, response) => {
    response.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    response.end(body);
  });
  await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
  return {
    database,
    serverUrl: `${server.url}/api/v1/runs/${runId}`,
    bareUrl: `http://127.0.0.1:${(bare.address() as { port: number }).port}/api/v1/runs/${runId}`,
    bodyBytes: Buffer.byteLength(body),
    bareRps: [],
    serverRps: [],
    ratios: [],
    errors: 0,
    async close() {
      bare.close();
      await server.close();
      await pg?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const targets: Target[] = [];
for (const database of databases) targets.push(await target(database));
const options = { headers, connections: CONNECTIONS, durationMs: DURATION_MS };
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const each of targets) {
      const baseline = await loadTest(each.bareUrl, options);
      const gateway = await loadTest(each.serverUrl, options);
      each.bareRps.push(baseline.rps);
      each.serverRps.push(gateway.rps);
      each.ratios.push(gateway.rps / baseline.rps);
      each.errors += baseline.errors + gateway.errors;
      console.log(
        `round ${round + 1} ${each.database.padEnd(8)}: bare ${fmt(baseline.rps, 0)} req/s, server ${fmt(gateway.rps, 0)} req/s (${fmt((100 * gateway.rps) / baseline.rps)} %)`,
      );
    }
  }
} finally {
  for (const each of targets) await each.close();
}
console.log(`${CONNECTIONS} keep-alive connections, ${ROUNDS} rounds of ${DURATION_MS} ms per side`);
const results: string[] = [];
for (const each of targets) {
  const sorted = [...each.ratios].sort((a, b) => a - b);
  console.log(
    `${each.database}: body ${each.bodyBytes} bytes; bare median ${fmt(median(each.bareRps), 0)} req/s, server median ${fmt(median(each.serverRps), 0)} req/s; paired ratios ${fmt(100 * sorted[0]!)}–${fmt(100 * sorted.at(-1)!)} %, non-200: ${each.errors}`,
  );
  results.push(`${each.database} ${fmt(100 * median(each.ratios))} % (goal ≥ ${goals[each.database]} %)`);
}
console.log(
  `GET /api/v1/runs/{id} as a share of bare node:http, median of paired rounds: ${results.join(', ')}`,
);
