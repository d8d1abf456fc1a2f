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

// Many short rounds; within a round every variant runs one small batch, back to back, in rotating order.
// Each round gives a ratio of two variants measured within a millisecond of each other, so drifts in
// machine load (this box is shared) cancel out; the median of those per-round ratios is the figure.
const ROUNDS = 1000;
const PER_ROUND = 10;
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

// Warm up every path (JIT, keep-alive sockets).
for (const call of Object.values(variants)) for (let i = 0; i < 20; i++) await timePerRequest(call);
const names = Object.keys(variants);
const times: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (let i = 0; i < names.length; i++) {
    const name = names[(round + i) % names.length]!;
    times[name]!.push(await timePerRequest(variants[name]!));
  }
}
child.kill();

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const quantile = (xs: number[], q: number) => sorted(xs)[Math.floor((xs.length - 1) * q)]!;
/** Per-round ratios of `a` to `b`: median, and the middle half of the rounds. */
function ratio(a: string, b: string) {
  const rs = times[a]!.map((t, i) => t / times[b]![i]!);
  return `${quantile(rs, 0.5).toFixed(3)} (middle half of rounds ${quantile(rs, 0.25).toFixed(3)}-${quantile(rs, 0.75).toFixed(3)})`;
}

console.log(
  `loopback GET /api/v1/comfy/health: ${ROUNDS} rounds x ${PER_ROUND} sequential requests per variant, rotating order`,
);
for (const name of names) {
  console.log(`  ${name.padEnd(11)} median ${quantile(times[name]!, 0.5).toFixed(1)} µs/request`);
}
const main = sorted(times.sdk!.map((t, i) => t / times.bare![i]!))[Math.floor((ROUNDS - 1) / 2)]!;
console.log(
  `  ratio sdk / bare fetch:                 ${ratio('sdk', 'bare')}  goal <= ${GOAL}: ${main <= GOAL ? 'MET' : 'NOT MET'}`,
);
console.log(`  ratio sdk / fetch with a signal:        ${ratio('sdk', 'bare+signal')}`);
console.log(`  ratio sdk / fetch with signal + timer:  ${ratio('sdk', 'bare+timer')}`);
console.log(
  `  ratio fetch with a signal / bare fetch: ${ratio('bare+signal', 'bare')}  (what fetch charges for abortability)`,
);
console.log(`  ratio sdk with timeout: 0 / bare fetch: ${ratio('sdk-untimed', 'bare')}`);
