// Upload bytes: 100 runs of the same 20 MB input file over two backends. Each engine sits behind a
// byte-counting TCP relay in this process, so what is measured is every byte the engines received from
// the server (uploads, prompts, history reads, WebSocket frames), and how many `POST /upload/image` came.
// Goal: about 40 MB in all (the file once per backend), against 2 GB when every run uploaded it.
// Baseline in the same run, on the same server: runs whose 20 MB files all differ, so each must be
// uploaded; its bytes per run, times the run count, is what the 100 runs cost before upload-once.
//   npm run bench -- bench/upload-bytes.ts
// Overrides: FS_BENCH_RUNS=100 FS_BENCH_FILE_MB=20 FS_BENCH_BASELINE_RUNS=10
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { ENGINE_BIN, fmt, SERVER_BIN, type SpawnedService, spawnService, tempDir } from './server-support';

const KEY = 'bench-key-0123456789abcdef';
const RUNS = Number(process.env.FS_BENCH_RUNS ?? 100);
const FILE_MB = Number(process.env.FS_BENCH_FILE_MB ?? 20);
const BASELINE_RUNS = Number(process.env.FS_BENCH_BASELINE_RUNS ?? 10);
const MB = 1_000_000;

setTimeout(() => {
  console.error('time limit reached');
  process.exit(1);
}, 20 * 60_000).unref();

interface Counter {
  url: string;
  bytes: number;
  uploads: number;
  close(): void;
}

const UPLOAD = Buffer.from('POST /upload/image ');

/** A TCP relay in front of an engine counting what flows towards it. */
async function countingRelay(target: string): Promise<Counter> {
  const { hostname, port } = new URL(target);
  const counter: Counter = { url: '', bytes: 0, uploads: 0, close: () => server.close() };
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
    let tail: Buffer = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      counter.bytes += chunk.length;
      // A request line may straddle two chunks: search the previous chunk's end with this one.
      const window = Buffer.concat([tail, chunk.subarray(0, 64 + UPLOAD.length - 1)]);
      for (let at = window.indexOf(UPLOAD); at !== -1; at = window.indexOf(UPLOAD, at + 1)) counter.uploads++;
      for (let at = chunk.indexOf(UPLOAD, 64); at !== -1; at = chunk.indexOf(UPLOAD, at + 1))
        counter.uploads++;
      tail = chunk.subarray(Math.max(0, chunk.length - UPLOAD.length + 1));
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  counter.url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return counter;
}

// The file input is bound to an image loader that no output depends on: the engine stores the upload but
// never decodes it, so the bench measures transfer, not a 20 MB image's processing.
const WORKFLOW = {
  '1': { class_type: 'FSLoadImage', inputs: { image: '', label: 'image' } },
  '2': { class_type: 'EmptyImage', inputs: { width: 4, height: 4, batch_size: 1, color: 0 } },
  '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'upload_bench' } },
};

// biome-ignore lint/suspicious/noExplicitAny: the bench reads a few fields of the server's JSON answers
async function call(server: SpawnedService, pathname: string, init: RequestInit = {}): Promise<any> {
  const response = await fetch(`${server.url}${pathname}`, {
    ...init,
    headers: { 'x-api-key': KEY, ...(init.headers as Record<string, string>) },
  });
  if (!response.ok) throw new Error(`${pathname}: ${response.status} ${await response.text()}`);
  return response.json();
}

/** A file that passes as a PNG by its signature; its body is random (the engine never decodes it). */
function fileOf(seed: Buffer): Blob {
  const body = Buffer.alloc(FILE_MB * MB);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(body);
  seed.copy(body, 8);
  return new Blob([body], { type: 'image/png' });
}

async function runAll(server: SpawnedService, files: Blob[]): Promise<void> {
  // Submitted in turn (each POST carries the 20 MB to the server), dispatched while the next is sent.
  for (const file of files) {
    const form = new FormData();
    form.append('image_1', file, 'input.png');
    await call(server, '/api/v1/runs?workflow_id=upload-bytes', { method: 'POST', body: form });
  }
  for (;;) {
    const open = await call(server, '/api/v1/runs?status=queued,running&page_size=1');
    if (open.meta.total_count === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const failed = (await call(server, '/api/v1/runs?status=failed,cancelled&page_size=1')).meta.total_count;
  if (failed > 0) throw new Error(`${failed} runs failed`);
}

const engines = await Promise.all(
  [0, 1].map(() =>
    spawnService(ENGINE_BIN, ['--port', '0', '--data-dir', tempDir('ub-engine'), '--log-level', 'error']),
  ),
);
const relays = await Promise.all(engines.map((engine) => countingRelay(engine.url)));
const server = await spawnService(SERVER_BIN, [
  ...['--port', '0', '--data-dir', tempDir('ub-server'), '--api-key', KEY, '--log-level', 'warn'],
  ...relays.flatMap((relay) => ['--comfyui-url', relay.url]),
]);
const totals = () => ({
  bytes: relays.reduce((sum, relay) => sum + relay.bytes, 0),
  uploads: relays.reduce((sum, relay) => sum + relay.uploads, 0),
});
try {
  await call(server, '/api/v1/admin/workflows', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'upload-bytes', workflow: WORKFLOW }),
  });
  console.log(`Upload bytes: ${RUNS} runs of one ${FILE_MB} MB file over 2 backends`);

  const atStart = totals();
  await runAll(
    server,
    Array.from({ length: BASELINE_RUNS }, () => fileOf(randomBytes(32))),
  );
  const distinct = totals();
  const perRun = (distinct.bytes - atStart.bytes) / BASELINE_RUNS;
  console.log(
    `baseline: ${BASELINE_RUNS} runs of distinct files: ${fmt((distinct.bytes - atStart.bytes) / MB, 1)} MB, ` +
      `${distinct.uploads - atStart.uploads} uploads, ${fmt(perRun / MB, 2)} MB per run`,
  );

  const same = fileOf(randomBytes(32));
  await runAll(
    server,
    Array.from({ length: RUNS }, () => same),
  );
  const end = totals();
  const bytes = end.bytes - distinct.bytes;
  const before = perRun * RUNS;
  console.log(
    `same file: ${RUNS} runs: engines received ${fmt(bytes / MB, 1)} MB in all ` +
      `(${relays.map((relay) => relay.uploads).join(' + ')} uploads incl. baseline; ${end.uploads - distinct.uploads} for these runs)`,
  );
  console.log(
    `before upload-once (baseline per run x ${RUNS}): ${fmt(before / MB, 0)} MB; now ${fmt(bytes / MB, 1)} MB: ` +
      `${fmt(before / bytes, 1)}x less (goal: ~${2 * FILE_MB} MB, once per backend) ` +
      `${bytes <= 2 * FILE_MB * MB * 1.05 ? 'MET' : 'NOT MET'}`,
  );
} finally {
  await server.stop();
  for (const relay of relays) relay.close();
  await Promise.all(engines.map((engine) => engine.stop()));
}
process.exit(0);
