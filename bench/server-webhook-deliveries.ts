// Webhook delivery throughput: N deliveries (default 10,000) to a receiver that fails 20% of requests at
// random (HTTP 500), with retries. Checks that every delivery is acknowledged and no webhook-id is
// acknowledged twice, and prints deliveries per second. Baseline, same run: the same number of bare
// node:http POSTs of the same bodies to the same receiver, 64 at a time, from this process (no store, no
// signing, no retries). The deliveries come from real runs (text-echo on the embedded engine) fanned out
// to 50 subscriptions of all events (3 per run: run.started, output.ready, run.completed), so a few
// hundred runs make 10,000 deliveries; runs are submitted 8 at a time, and sending overlaps them. The
// server's CPU time per delivery is printed too: on a shared machine it moves far less than rates do.
//   node --conditions=flowscale-source --import tsx bench/server-webhook-deliveries.ts
//   WEBHOOK_BENCH_N=1000 for a quick run; WEBHOOK_BENCH_DB=postgres for the server on Postgres.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FlowscaleAdminAPI } from 'flowscale/admin';
import { cpuMsOf, createBenchDatabase, fmt, SERVER_BIN, spawnService, tempDir } from './server-support';

const KEY = 'bench-key-0123456789abcdef';
const N = Number(process.env.WEBHOOK_BENCH_N ?? 10_000);
const FAIL_SHARE = 0.2;
const ENDPOINTS = 50;
const EVENTS_PER_RUN = 3;
const SUBMIT_CONCURRENCY = 8;
const database =
  process.env.WEBHOOK_BENCH_DB === 'postgres' ? await createBenchDatabase('deliveries') : undefined;

const acked = new Map<string, number>();
let requests = 0;
let failed = 0;
let lastAckAt = 0;
const receiver = http.createServer((request, response) => {
  request.resume().on('end', () => {
    requests++;
    if (Math.random() < FAIL_SHARE) {
      failed++;
      response.writeHead(500).end();
      return;
    }
    const id = String(request.headers['webhook-id'] ?? '');
    acked.set(id, (acked.get(id) ?? 0) + 1);
    lastAckAt = performance.now();
    response.writeHead(204).end();
  });
});
receiver.keepAliveTimeout = 10_000;
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

const server = await spawnService(
  SERVER_BIN,
  ['--port', '0', '--data-dir', tempDir('wd-server'), '--api-key', KEY, '--log-level', 'warn'],
  {
    env: {
      FLOWSCALE_ALLOW_PRIVATE_URLS: 'true',
      // Short retries so a 20% failure rate settles within the bench (the default waits 5 s, then 5 min).
      FLOWSCALE_WEBHOOK_SCHEDULE: '0,20ms,20ms,20ms,20ms,20ms,20ms,20ms,20ms,20ms',
      FLOWSCALE_WEBHOOK_POLL_MS: '100',
      FLOWSCALE_RATE_LIMIT: '0',
      ...(database ? { FLOWSCALE_DATABASE_URL: database.url } : {}),
    },
  },
);
const api = new FlowscaleAdminAPI({ apiKey: KEY, baseUrl: server.url, enableLogging: false, retries: 0 });
for (let index = 0; index < ENDPOINTS; index++)
  await api.createWebhook({ url: `${receiverUrl}?ep=${index}` });

// Baseline: bare POSTs of a test event's bytes, 64 in flight, keep-alive, over the same loopback.
async function bareBaseline(count: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const body = JSON.stringify({
    type: 'webhook.test',
    timestamp: new Date().toISOString(),
    data: { message: 'x'.repeat(70) },
  });
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      await new Promise<void>((resolve, reject) => {
        const request = http.request(receiverUrl, {
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'webhook-id': `bare_${index}` },
        });
        request.once('response', (response) => response.resume().once('end', resolve));
        request.once('error', reject);
        request.end(body);
      });
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  agent.destroy();
  return count / ((performance.now() - started) / 1000);
}

const baseline = await bareBaseline(Math.min(N, 5000));
acked.clear();
requests = 0;
failed = 0;

const runs = Math.ceil(N / (ENDPOINTS * EVENTS_PER_RUN));
const expected = runs * ENDPOINTS * EVENTS_PER_RUN;
let submitted = 0;
const serverPid = server.child.pid as number;
const cpuBefore = cpuMsOf(serverPid);
const started = performance.now();
await Promise.all(
  Array.from({ length: SUBMIT_CONCURRENCY }, async () => {
    while (submitted < runs) {
      submitted++;
      await api.executeWorkflow('text-echo', { default_value_1: `d${submitted}` });
    }
  }),
);
const submittedMs = performance.now() - started;
const deadline = Date.now() + 10 * 60_000;
while (acked.size < expected) {
  if (Date.now() > deadline) throw new Error(`only ${acked.size}/${expected} acknowledged`);
  await new Promise((resolve) => setTimeout(resolve, 50));
}
const elapsedMs = lastAckAt - started;
// CPU time does not depend on what else the machine runs, unlike rates: compare these across changes.
const serverCpuMs = cpuMsOf(serverPid) - cpuBefore;
// A duplicate would show up within a retry period or two; wait for it before counting.
await new Promise((resolve) => setTimeout(resolve, 1000));
const twice = [...acked.values()].filter((count) => count > 1).length;
const rate = expected / (elapsedMs / 1000);
const where = database ? 'Postgres' : 'SQLite';
console.log(
  `${expected} webhook deliveries (${runs} runs x ${ENDPOINTS} endpoints x ${EVENTS_PER_RUN} events), receiver failing ${FAIL_SHARE * 100}% at random (${where}):`,
);
console.log(`  acknowledged: ${acked.size}/${expected}; webhook-ids acknowledged twice: ${twice}`);
console.log(`  requests received: ${requests} (${failed} answered 500 and were retried)`);
console.log(
  `  runs submitted in ${fmt(submittedMs / 1000, 2)} s; last delivery acknowledged after ${fmt(elapsedMs / 1000, 2)} s`,
);
console.log(`  deliveries/s: ${fmt(rate, 0)}`);
console.log(
  `  server CPU (its runs included): ${fmt(serverCpuMs / 1000, 2)} s, ${fmt((serverCpuMs * 1000) / expected, 0)} µs per delivery`,
);
console.log(
  `  baseline, bare node:http POSTs to the same receiver: ${fmt(baseline, 0)}/s; ratio ${fmt(rate / baseline, 3)}`,
);
if (twice > 0 || acked.size !== expected) process.exitCode = 1;
await server.stop();
receiver.closeAllConnections();
receiver.close();
await database?.drop();
