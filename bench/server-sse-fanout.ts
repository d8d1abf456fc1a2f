// P6, SSE fan-out: one long run emitting about 10 events/s (slow-delay's FSDelay node reports a step every
// 100 ms) and N subscribers to its /api/v1/runs/{id}/events. Prints, per N: deliveries/s, server CPU µs per
// delivery (from /proc of the server pid) and delivery latency p50/p99 = receipt time − the event's `ts`.
// Goal: 10,000 subscribers at p99 < 100 ms (≈ 8 µs of server CPU per delivery).
// Engine and server run as separate processes; this process is only the client (raw sockets in worker
// threads). Needs `ulimit -n` ≥ N + 1000 (it is inherited by the server); on the dev box it is 20000.
// Loopback caveat: when the machine is short of CPU, the kernel defers loopback receive work, and its
// per-CPU backlog (net.core.netdev_max_backlog, 1000 here) overflows during a fan-out burst: packets are
// dropped and TCP resends them after ≥ 200 ms. Each line prints those drops and retransmits for its window;
// a line with drops measures the machine, not the server (raise the backlog, e.g. to 30000, to avoid it).
//   node --conditions=flowscale-source --import tsx bench/server-sse-fanout.ts [1000,5000,10000]
import { execSync } from 'node:child_process';
import { FlowscaleAPI } from 'flowscale';
import {
  cpuSplitMsOf,
  ENGINE_BIN,
  fmt,
  histogramPercentile,
  memoryOf,
  netCounters,
  SERVER_BIN,
  SseSubscribers,
  spawnService,
  tempDir,
} from './server-support';

const KEY = 'bench-key-0123456789abcdef';
const COUNTS = (process.argv[2] ?? '1000,5000,10000').split(',').map(Number);
const WINDOW_MS = Number(process.env.FS_BENCH_WINDOW_MS ?? 10_000);
const THREADS = Number(process.env.FS_BENCH_THREADS ?? 2);
const OPEN_BATCH = 1000;
const TIME_LIMIT_MS = 1_200_000;

const fdLimit = Number(execSync('ulimit -n', { shell: '/bin/sh' }).toString().trim());
if (fdLimit < Math.max(...COUNTS) + 1000) {
  console.error(`ulimit -n is ${fdLimit}; raise it to at least ${Math.max(...COUNTS) + 1000} first`);
  process.exit(2);
}

// Thousands of streams are opened from one key in seconds: the per-key rate limit would refuse them.
process.env.FLOWSCALE_RATE_LIMIT = '0';
const engine = await spawnService(ENGINE_BIN, [
  ...['--port', '0', '--data-dir', tempDir('fan-engine'), '--log-level', 'error'],
]);
const server = await spawnService(SERVER_BIN, [
  ...['--port', '0', '--data-dir', tempDir('fan-server'), '--api-key', KEY],
  ...['--comfyui-url', engine.url, '--log-level', 'warn'],
]);
const serverPid = server.child.pid as number;
// Never leave the server and engine behind, whatever ends this process.
const abort = (why: string): void => {
  console.error(why);
  server.child.kill('SIGKILL');
  engine.child.kill('SIGKILL');
  process.exit(1);
};
setTimeout(() => abort('time limit reached'), TIME_LIMIT_MS).unref();
process.once('SIGINT', () => abort('interrupted'));
process.once('SIGTERM', () => abort('terminated'));
const api = new FlowscaleAPI({ apiKey: KEY, baseUrl: server.url, enableLogging: false });
const subscribers = new SseSubscribers(server.url, KEY, THREADS);

/** A long run and one ordinary subscriber that tracks its latest seq and counts its events. */
async function startRun(): Promise<{ runId: string; latest: () => number; stop: () => void }> {
  const runId = (await api.executeWorkflow('slow-delay', { default_value_1: 'fan-out', value_4: 1800 })).data
    .run_id;
  let latest = 0;
  let progressing!: () => void;
  const started = new Promise<void>((resolve) => {
    progressing = resolve;
  });
  const subscription = api.subscribeRunEvents(runId, {
    onEvent: (event) => {
      latest = event.data.seq;
      if (event.data.type === 'node.progress') progressing();
    },
  });
  await started;
  return { runId, latest: () => latest, stop: () => subscription.close() };
}

async function measure(count: number): Promise<void> {
  const run = await startRun();
  let opened = 0;
  const openStarted = performance.now();
  // Each subscriber starts at the live end when it connects: replaying the log to thousands of late
  // subscribers would measure a reconnect storm, not the fan-out.
  subscribers.setFrom(run.latest() + 1);
  const tracking = setInterval(() => subscribers.setFrom(run.latest() + 1), 50);
  for (let done = 0; done < count; done += OPEN_BATCH) {
    const path = `/api/v1/runs/${run.runId}/events?from_seq={from}`;
    opened += await subscribers.open(path, Math.min(OPEN_BATCH, count - done));
    if (process.env.FS_BENCH_VERBOSE)
      console.error(`  opened ${opened} at ${fmt((performance.now() - openStarted) / 1000)} s`);
  }
  clearInterval(tracking);
  const openSeconds = (performance.now() - openStarted) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 2000));
  await subscribers.reset();
  const seqBefore = run.latest();
  const cpuBefore = cpuSplitMsOf(serverPid);
  const netBefore = netCounters();
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
  const report = await subscribers.report();
  const cpuAfter = cpuSplitMsOf(serverPid);
  const netAfter = netCounters();
  const userMs = cpuAfter.userMs - cpuBefore.userMs;
  const cpuMs = userMs + cpuAfter.systemMs - cpuBefore.systemMs;
  const seconds = (performance.now() - started) / 1000;
  const events = run.latest() - seqBefore;
  const p = (q: number): string => fmt(histogramPercentile(report.histogram, q), 0);
  console.log(
    `N=${String(count).padStart(6)}  open ${opened}/${report.open}  events ${fmt(events / seconds)}/s  ` +
      `deliveries ${fmt(report.deliveries / seconds, 0)}/s (expected ${fmt((events * count) / seconds, 0)})  ` +
      `server CPU ${fmt((1000 * cpuMs) / Math.max(1, report.deliveries), 2)} µs/delivery ` +
      `(user ${fmt((1000 * userMs) / Math.max(1, report.deliveries), 2)}; ${fmt((100 * cpuMs) / (seconds * 1000), 0)}% of a core)  ` +
      `latency p50 ${p(50)} ms  p99 ${p(99)} ms  max ${p(100)} ms  RSS ${fmt(memoryOf(serverPid).rssMiB, 0)} MiB  errors ${report.errors}  (opened in ${fmt(openSeconds)} s; ` +
      `loopback backlog drops ${netAfter.backlogDrops - netBefore.backlogDrops}, TCP retransmits ${netAfter.retransmits - netBefore.retransmits})`,
  );
  run.stop();
  await api.cancelRun(run.runId).catch(() => undefined);
  await subscribers.closeStreams();
  await new Promise((resolve) => setTimeout(resolve, 1000));
}

console.log(`SSE fan-out, one run at ~10 events/s, ${WINDOW_MS / 1000} s window, ${THREADS} client threads`);
for (const count of COUNTS) await measure(count);
await subscribers.stop();
await server.stop();
await engine.stop();
