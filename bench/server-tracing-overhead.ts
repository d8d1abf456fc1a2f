// What traces cost the server: the same runs through a server with traces off (no OTLP endpoint: the
// baseline, taken in the same run) and one exporting every span over OTLP/HTTP to a loopback receiver in
// this process. Server CPU time per run (from /proc) and wall time; rounds alternate off/on.
//   node --conditions=flowscale-source --import tsx bench/server-tracing-overhead.ts
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FlowscaleAPI } from 'flowscale';
import { cpuMsOf, ENGINE_BIN, fmt, median, SERVER_BIN, spawnService, tempDir } from './server-support';

const KEY = 'bench-key-0123456789abcdef';
const RUNS = Number(process.env.RUNS ?? 200);
const CONCURRENCY = 16;
const ROUNDS = 3;

let spans = 0;
const receiver = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    for (const resource of body.resourceSpans ?? [])
      for (const scope of resource.scopeSpans ?? []) spans += scope.spans?.length ?? 0;
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

const engine = await spawnService(ENGINE_BIN, [
  '--port',
  '0',
  '--data-dir',
  tempDir('t-engine'),
  '--log-level',
  'error',
]);
const serverArgs = (label: string) => [
  ...['--port', '0', '--data-dir', tempDir(label), '--api-key', KEY],
  ...['--comfyui-url', engine.url, '--log-level', 'warn'],
];
const off = await spawnService(SERVER_BIN, serverArgs('t-off'), { env: { OTEL_EXPORTER_OTLP_ENDPOINT: '' } });
const on = await spawnService(SERVER_BIN, serverArgs('t-on'), {
  env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' },
});

/** RUNS text-echo runs, CONCURRENCY at a time, each awaited to completion: server CPU ms per run, wall s. */
async function round(server: typeof on): Promise<{ cpuPerRun: number; seconds: number }> {
  const api = new FlowscaleAPI({ apiKey: KEY, baseUrl: server.url, enableLogging: false });
  const cpuBefore = cpuMsOf(server.child.pid!);
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let index = next++; index < RUNS; index = next++) {
        const result = await api.executeWorkflowAsync(
          'text-echo',
          { default_value_1: `r${index}` },
          undefined,
          50,
        );
        if (result.status !== 'success') throw new Error(`run ${index}: ${result.status}`);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { cpuPerRun: (cpuMsOf(server.child.pid!) - cpuBefore) / RUNS, seconds };
}

await round(off); // warm-up: first requests compile routes and schemas
await round(on);
type Round = { cpuPerRun: number; seconds: number };
const results: Record<'off' | 'on', Round[]> = { off: [], on: [] };
for (let r = 0; r < ROUNDS; r++) {
  results.off.push(await round(off));
  results.on.push(await round(on));
}
await new Promise((resolve) => setTimeout(resolve, 1000)); // the last batch of spans
const cpu = (which: 'off' | 'on') => median(results[which].map((x) => x.cpuPerRun));
const wall = (which: 'off' | 'on') => median(results[which].map((x) => x.seconds));
console.log(`${RUNS} text-echo runs x ${ROUNDS} rounds per server, ${CONCURRENCY} at a time (medians)`);
console.log(
  `  traces off (baseline): ${fmt(cpu('off'), 2)} ms server CPU per run, ${fmt(wall('off'), 2)} s wall`,
);
console.log(
  `  traces on (OTLP/HTTP): ${fmt(cpu('on'), 2)} ms server CPU per run, ${fmt(wall('on'), 2)} s wall`,
);
console.log(
  `  ratio on/off: CPU ${fmt(cpu('on') / cpu('off'), 3)}, wall ${fmt(wall('on') / wall('off'), 3)}`,
);
console.log(
  `  spans received: ${spans} (${fmt(spans / (RUNS * (ROUNDS + 1)), 1)} per run, all requests included)`,
);
await Promise.all([off.stop(), on.stop(), engine.stop()]);
receiver.close();
