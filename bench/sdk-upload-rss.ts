// Peak RSS of a process that uploads a 1 GiB generated stream with executeWorkflow to a loopback server
// that discards it, against the same process uploading a 1 KiB input (the baseline, same run).
// Each upload runs in a fresh child process so its peak (VmHWM) is its own; the server is another process.
// The child is this file bundled by esbuild and run by plain node, so the TypeScript loader's own memory
// (about 40 MB for tsx + esbuild) is not counted.
// Run: node --conditions=flowscale-source --import tsx bench/sdk-upload-rss.ts
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FlowscaleAPI } from 'flowscale';
import { startLoopbackServer } from './sdk-support';

const GIB = Number(process.env.SDK_BENCH_UPLOAD_BYTES ?? 1024 ** 3);
const CHUNK = 64 * 1024;
const GOAL_MB = 100;

type Mode = 'small' | 'node-readable' | 'web-stream';

/** Yields `total` bytes from one reused chunk, so the generator itself holds no memory. */
function* chunks(total: number) {
  const chunk = Buffer.alloc(CHUNK, 0x61);
  for (let sent = 0; sent < total; sent += CHUNK) yield chunk;
}

function input(mode: Mode) {
  if (mode === 'small') return Buffer.alloc(1024, 0x61);
  if (mode === 'node-readable') return Readable.from(chunks(GIB), { objectMode: false });
  const iterator = chunks(GIB);
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = iterator.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
  });
}

const peakRssMb = () =>
  Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;

async function child(mode: Mode, url: string) {
  const api = new FlowscaleAPI({ apiKey: 'bench-key', baseUrl: url, enableLogging: false, timeout: 120_000 });
  const started = Date.now();
  const result = await api.executeWorkflow('bench', { image_1: input(mode), prompt_2: 'upload' });
  const seconds = (Date.now() - started) / 1000;
  const received = (result.data as unknown as { received: number }).received;
  console.log(JSON.stringify({ mode, peakRssMb: peakRssMb(), received, seconds }));
}

async function main() {
  const script = join(mkdtempSync(join(tmpdir(), 'sdk-rss-')), 'child.mjs');
  const { build } = await import('esbuild'); // only the parent needs it
  await build({
    entryPoints: [import.meta.filename],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: script,
    conditions: ['flowscale-source'],
    external: ['esbuild'],
    logLevel: 'silent',
  });
  const { url, child: server } = await startLoopbackServer();
  const rows: Array<{ mode: Mode; peakRssMb: number; received: number; seconds: number }> = [];
  try {
    for (const mode of ['small', 'node-readable', 'web-stream'] as Mode[]) {
      const out = execFileSync(process.execPath, [script, mode, url], {
        encoding: 'utf8',
        timeout: 180_000,
      });
      rows.push(JSON.parse(out.trim().split('\n').pop()!));
    }
  } finally {
    server.kill();
  }
  const base = rows[0]!.peakRssMb;
  console.log('executeWorkflow upload to a loopback server that discards the body (each in a fresh process)');
  for (const row of rows) {
    const mbps = row.received / 1024 ** 2 / row.seconds;
    console.log(
      `  ${row.mode.padEnd(14)} sent ${(row.received / 1024 ** 2).toFixed(0).padStart(5)} MiB in ${row.seconds.toFixed(1)} s ` +
        `(${mbps.toFixed(0)} MiB/s), peak RSS ${row.peakRssMb.toFixed(1)} MB, ratio to 1 KiB upload ${(row.peakRssMb / base).toFixed(2)}`,
    );
  }
  const worst = Math.max(...rows.map((r) => r.peakRssMb));
  console.log(
    `  goal: 1 GiB peak RSS < ${GOAL_MB} MB -> ${worst < GOAL_MB ? 'MET' : 'NOT MET'} (worst ${worst.toFixed(1)} MB)`,
  );
}

const [mode, url] = process.argv.slice(2);
if (mode) await child(mode as Mode, url!);
else await main();
