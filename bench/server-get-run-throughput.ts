// GET /api/v1/runs/{id} through the full server (auth, routing, cached view) against bare node:http serving
// the very same JSON bytes, measured in the same run with the same load generator. Goal: ≥ 50 %.
//   node --conditions=flowscale-source --import tsx bench/server-get-run-throughput.ts
import http from 'node:http';
import { startServer } from '@flowscale/server';
import { fmt, loadTest, median, tempDir } from './server-support';

const KEY = 'bench-key-0123456789abcdef';
const ROUNDS = 5;
const DURATION_MS = 3000;
const CONNECTIONS = 50;

// One key at thousands of requests a second would trip any sane per-key rate limit, so the limit is off by
// default here. BENCH_RATE_LIMIT=1000000000/min keeps the limiter on the path without ever tripping it,
// to measure what the bucket update costs (docs/server-benchmarks.md).
const server = await startServer({
  port: 0,
  dataDir: tempDir('rps'),
  apiKeys: [KEY],
  logLevel: 'warn',
  rateLimit: process.env.BENCH_RATE_LIMIT ?? 0,
});
const headers = { 'x-api-key': KEY };
const form = new FormData();
form.append('default_value_1', 'bench');
const submitted = await (
  await fetch(`${server.url}/api/v1/runs?workflow_id=text-echo`, { method: 'POST', headers, body: form })
).json();
const runId: string = submitted.data.run_id;
let body = '';
for (let attempt = 0; attempt < 100; attempt++) {
  body = await (await fetch(`${server.url}/api/v1/runs/${runId}`, { headers })).text();
  if (JSON.parse(body).data.status === 'completed') break;
  await new Promise((resolve) => setTimeout(resolve, 50));
}

const bare = http.createServer((_request, response) => {
  response.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
});
await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
const bareUrl = `http://127.0.0.1:${(bare.address() as { port: number }).port}/api/v1/runs/${runId}`;

const bareRps: number[] = [];
const serverRps: number[] = [];
// Paired per round (bare then server, back to back), so a noisy neighbour hits both sides of a ratio alike.
const ratios: number[] = [];
let errors = 0;
for (let round = 0; round < ROUNDS; round++) {
  const baseline = await loadTest(bareUrl, { headers, connections: CONNECTIONS, durationMs: DURATION_MS });
  const gateway = await loadTest(`${server.url}/api/v1/runs/${runId}`, {
    headers,
    connections: CONNECTIONS,
    durationMs: DURATION_MS,
  });
  bareRps.push(baseline.rps);
  serverRps.push(gateway.rps);
  ratios.push(gateway.rps / baseline.rps);
  errors += baseline.errors + gateway.errors;
  console.log(`round ${round + 1}: bare ${fmt(baseline.rps, 0)} req/s, server ${fmt(gateway.rps, 0)} req/s`);
}
console.log(
  `body ${Buffer.byteLength(body)} bytes, ${CONNECTIONS} keep-alive connections, ${ROUNDS}×${DURATION_MS} ms each`,
);
console.log(`bare node:http  median ${fmt(median(bareRps), 0)} req/s`);
console.log(`server          median ${fmt(median(serverRps), 0)} req/s`);
console.log(
  `ratio server/bare, median of the ${ROUNDS} paired rounds: ${fmt(100 * median(ratios))} % (goal ≥ 50 %), non-200: ${errors}`,
);
bare.close();
await server.close();
