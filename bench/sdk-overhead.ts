// Per-request overhead of the SDK against bare fetch on loopback, as ratios measured in the same run.
// All variants make the same GET and parse the same JSON; the server runs in a child process.
//   bare        fetch(url, {headers}) + res.json()
//   bare+signal the same with an AbortController's signal: what making a request abortable costs in fetch
//   bare+timer  the same plus a setTimeout/clearTimeout pair: the usual way to add a per-request timeout
//   sdk         FlowscaleAPI.checkHealth() (timeout, retries, error mapping, logging off)
//   sdk-untimed the same client with timeout: 0 (no signal, so fetch carries none); not the goal figure
// Run: node --conditions=flowscale-source --import tsx bench/sdk-overhead.ts
import { FlowscaleAPI } from 'flowscale';
import { startLoopbackServer } from './sdk-support';

const ROUNDS = 50;
const PER_ROUND = 200;
const GOAL = 1.1;

const { url, child } = await startLoopbackServer();
const api = new FlowscaleAPI({ apiKey: 'bench-key', baseUrl: url, enableLogging: false });
const untimed = new FlowscaleAPI({ apiKey: 'bench-key', baseUrl: url, enableLogging: false, timeout: 0 });
const headers = { Accept: 'application/json', 'X-API-KEY': 'bench-key' };
const target = `${url}/api/v1/comfy/health`;

const variants: Record<string, () => Promise<unknown>> = {
  bare: async () => (await fetch(target, { headers })).json(),
  'bare+signal': async () => {
    const controller = new AbortController();
    return (await fetch(target, { headers, signal: controller.signal })).json();
  },
  'bare+timer': async () => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 300_000);
    try {
      return await (await fetch(target, { headers, signal: controller.signal })).json();
    } finally {
      clearTimeout(timer);
    }
  },
  sdk: () => api.checkHealth(),
  'sdk-untimed': () => untimed.checkHealth(),
};

async function timePerRequest(call: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < PER_ROUND; i++) await call();
  return Number(process.hrtime.bigint() - start) / 1e3 / PER_ROUND; // µs per request
}

// Warm up every path (JIT, keep-alive sockets), then rotate the order each round so noise hits all alike.
for (const call of Object.values(variants)) await timePerRequest(call);
const times: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
const names = Object.keys(variants);
for (let round = 0; round < ROUNDS; round++) {
  for (let i = 0; i < names.length; i++) {
    const name = names[(round + i) % names.length]!;
    times[name]!.push(await timePerRequest(variants[name]!));
  }
}
child.kill();

// On a shared machine noise only ever adds time, so the quietest quarter of rounds is the best estimate.
const quiet = (xs: number[]) => {
  const best = [...xs].sort((a, b) => a - b).slice(0, Math.ceil(xs.length / 4));
  return best.reduce((a, b) => a + b, 0) / best.length;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log(
  `loopback GET /api/v1/comfy/health, ${ROUNDS} rotating rounds x ${PER_ROUND} sequential requests per variant`,
);
for (const name of names) {
  console.log(
    `  ${name.padEnd(11)} quietest quarter ${quiet(times[name]!).toFixed(1)} µs/request, median ${median(times[name]!).toFixed(1)}`,
  );
}
const vsBare = quiet(times.sdk!) / quiet(times.bare!);
const vsTimer = quiet(times.sdk!) / quiet(times['bare+timer']!);
console.log(
  `  ratio sdk / bare fetch:        ${vsBare.toFixed(3)}  (goal <= ${GOAL}: ${vsBare <= GOAL ? 'MET' : 'NOT MET'})`,
);
const vsSignal = quiet(times.sdk!) / quiet(times['bare+signal']!);
console.log(`  ratio sdk / fetch with a signal:  ${vsSignal.toFixed(3)}`);
console.log(`  ratio sdk / fetch with timeout: ${vsTimer.toFixed(3)}`);
console.log(
  `  ratio sdk with timeout: 0 / bare fetch: ${(quiet(times['sdk-untimed']!) / quiet(times.bare!)).toFixed(3)}`,
);
