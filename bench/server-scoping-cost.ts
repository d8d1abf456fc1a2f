// The cost of project scoping: GET /api/v1/runs/{id} of one run, read with a member key of the run's project
// (scope checked on every read) and with an admin key (sees every project), each as a share of bare
// node:http serving the very same JSON bytes, all in the same run with the same load generator. Every round
// measures bare, admin and member back to back, in a rotating order, so drift and a noisy neighbour hit
// all three alike. Goal: the member figure within 5 points of the admin figure.
//   node --conditions=flowscale-source --import tsx bench/server-scoping-cost.ts [--database sqlite|postgres]
import fs from 'node:fs';
import http from 'node:http';
import { startServer } from '@flowscale/server';
import { type BenchDatabase, createBenchDatabase, fmt, loadTest, median, tempDir } from './server-support';

const ADMIN_KEY = 'bench-admin-key-0123456789abcdef';
// Many short rounds rather than a few long ones: on a shared machine throughput swings by 2-5x within
// seconds, and the median of many paired rounds is what holds still. BENCH_ROUNDS / BENCH_DURATION_MS.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 1500);
const CONNECTIONS = 50;
const GOAL_POINTS = 5;
const database = process.argv.includes('--database')
  ? (process.argv[process.argv.indexOf('--database') + 1] as 'sqlite' | 'postgres')
  : 'sqlite';

async function json(url: string, key: string, init: RequestInit = {}) {
  const response = await fetch(url, {
    ...init,
    headers: { 'x-api-key': key, ...(init.headers as Record<string, string> | undefined) },
  });
  const body = await response.json();
  if (!response.ok) throw new Error(`${url}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

/** A project, a member key in it, and a finished run that member created. */
async function memberRun(url: string): Promise<{ memberKey: string; runId: string; body: string }> {
  const post = (body: unknown) => ({
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  await json(`${url}/api/v1/admin/projects`, ADMIN_KEY, post({ name: 'bench' }));
  const made = await json(
    `${url}/api/v1/admin/keys`,
    ADMIN_KEY,
    post({ name: 'bench app', role: 'member', project: 'bench' }),
  );
  const memberKey: string = made.data.key;
  const form = new FormData();
  form.append('default_value_1', 'bench');
  const submitted = await json(`${url}/api/v1/runs?workflow_id=text-echo`, memberKey, {
    method: 'POST',
    body: form,
  });
  const runId: string = submitted.data.run_id;
  let body = '';
  for (let attempt = 0; attempt < 100; attempt++) {
    body = await (await fetch(`${url}/api/v1/runs/${runId}`, { headers: { 'x-api-key': memberKey } })).text();
    if (JSON.parse(body).data.status === 'completed') break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const asAdmin = await (
    await fetch(`${url}/api/v1/runs/${runId}`, { headers: { 'x-api-key': ADMIN_KEY } })
  ).text();
  if (asAdmin !== body) throw new Error('the admin and the member were answered different bytes');
  return { memberKey, runId, body };
}

const pg: BenchDatabase | undefined =
  database === 'postgres' ? await createBenchDatabase('scoping') : undefined;
const dataDir = tempDir('scoping');
// The per-key rate limit is off: one key at thousands of requests a second would trip any sane limit.
const server = await startServer({
  port: 0,
  dataDir,
  apiKeys: [ADMIN_KEY],
  logLevel: 'error',
  rateLimit: 0,
  ...(pg ? { databaseUrl: pg.url } : {}),
});
const { memberKey, runId, body } = await memberRun(server.url);
const bare = http.createServer((_request, response) => {
  response.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
});
await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));

const runPath = `/api/v1/runs/${runId}`;
const sides = {
  bare: { url: `http://127.0.0.1:${(bare.address() as { port: number }).port}${runPath}`, key: ADMIN_KEY },
  admin: { url: `${server.url}${runPath}`, key: ADMIN_KEY },
  member: { url: `${server.url}${runPath}`, key: memberKey },
} as const;
type Side = keyof typeof sides;
const ORDERS: Side[][] = [
  ['bare', 'admin', 'member'],
  ['admin', 'member', 'bare'],
  ['member', 'bare', 'admin'],
];
const rps: Record<Side, number[]> = { bare: [], admin: [], member: [] };
const shares: Record<'admin' | 'member', number[]> = { admin: [], member: [] };
let errors = 0;
try {
  for (let round = 0; round < ROUNDS; round++) {
    const measured: Partial<Record<Side, number>> = {};
    for (const side of ORDERS[round % ORDERS.length]!) {
      const { url, key } = sides[side];
      const result = await loadTest(url, {
        headers: { 'x-api-key': key },
        connections: CONNECTIONS,
        durationMs: DURATION_MS,
      });
      measured[side] = result.rps;
      rps[side].push(result.rps);
      errors += result.errors;
    }
    const base = measured.bare!;
    shares.admin.push((100 * measured.admin!) / base);
    shares.member.push((100 * measured.member!) / base);
    console.log(
      `round ${round + 1}: bare ${fmt(base, 0)} req/s, admin ${fmt(measured.admin!, 0)} (${fmt(shares.admin.at(-1)!)} %), member ${fmt(measured.member!, 0)} (${fmt(shares.member.at(-1)!)} %)`,
    );
  }
} finally {
  bare.close();
  await server.close();
  await pg?.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}

const admin = median(shares.admin);
const member = median(shares.member);
// Paired per round: the member's share below the admin's in that round (negative: above).
const gap = median(shares.admin.map((share, round) => share - shares.member[round]!));
console.log(
  `${database}, body ${Buffer.byteLength(body)} bytes, ${CONNECTIONS} keep-alive connections, ${ROUNDS} rounds of ${DURATION_MS} ms per side, non-200: ${errors}`,
);
console.log(
  `median req/s: bare ${fmt(median(rps.bare), 0)}, admin ${fmt(median(rps.admin), 0)}, member ${fmt(median(rps.member), 0)}`,
);
console.log(
  `GET /api/v1/runs/{id} as a share of bare node:http (median of paired rounds): admin ${fmt(admin)} %, member ${fmt(member)} %; median paired gap: member ${fmt(gap)} points below admin (goal ≤ ${GOAL_POINTS}: ${gap <= GOAL_POINTS ? 'met' : 'NOT met'})`,
);
