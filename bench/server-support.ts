// Shared helpers for the bench/server-*.ts scripts. Load only ever targets 127.0.0.1, bounded in count and time.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

export const tempDir = (label: string): string =>
  fs.mkdtempSync(path.join(os.tmpdir(), `fs-bench-${label}-`));

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

export const median = (values: number[]): number => percentile(values, 50);
export const fmt = (value: number, digits = 1): string => value.toFixed(digits);

/** Peak (VmHWM) and current (VmRSS) resident memory of a process, in MiB, from /proc. */
export function memoryOf(pid: number): { peakMiB: number; rssMiB: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number =>
    Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN);
  return { peakMiB: kib('VmHWM') / 1024, rssMiB: kib('VmRSS') / 1024 };
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (clock ticks of 10 ms). */
export function cpuMsOf(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

// A deliberately cheap HTTP/1.1 client (raw sockets, one request in flight per keep-alive connection,
// responses framed by Content-Length): node:http costs more CPU per request than a bare server, which would
// make the client, not the server under test, the bottleneck.
const LOAD_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const { url, headers, connections, durationMs } = workerData;
const target = new URL(url);
const head = ['GET ' + target.pathname + target.search + ' HTTP/1.1', 'Host: ' + target.host, 'Connection: keep-alive']
  .concat(Object.entries(headers).map(([k, v]) => k + ': ' + v)).join('\\r\\n') + '\\r\\n\\r\\n';
const request = Buffer.from(head);
let requests = 0, errors = 0;
const deadline = Date.now() + durationMs;
function connection() {
  return new Promise((resolve) => {
    const socket = net.connect(Number(target.port), target.hostname);
    socket.setNoDelay(true);
    let buffer = Buffer.alloc(0);
    const send = () => (Date.now() >= deadline ? (socket.end(), resolve()) : socket.write(request));
    socket.on('connect', send);
    socket.on('error', () => { errors++; resolve(); });
    socket.on('data', (chunk) => {
      buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
      for (;;) {
        const end = buffer.indexOf('\\r\\n\\r\\n');
        if (end < 0) return;
        const header = buffer.toString('latin1', 0, end);
        const match = /content-length: *(\\d+)/i.exec(header);
        const total = end + 4 + (match ? Number(match[1]) : 0);
        if (buffer.length < total) return;
        if (header.startsWith('HTTP/1.1 200')) requests++; else errors++;
        buffer = buffer.subarray(total);
        send();
      }
    });
  });
}
const started = Date.now();
Promise.all(Array.from({ length: connections }, connection)).then(() => {
  parentPort.postMessage({ requests, errors, elapsedMs: Date.now() - started });
});
`;

/** Hammers one URL with keep-alive GETs from a worker thread (its own core) for a fixed time. */
export function loadTest(
  url: string,
  options: { headers?: Record<string, string>; connections?: number; durationMs?: number } = {},
): Promise<{ requests: number; errors: number; rps: number }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(LOAD_WORKER, {
      eval: true,
      workerData: {
        url,
        headers: options.headers ?? {},
        connections: options.connections ?? 50,
        durationMs: options.durationMs ?? 4000,
      },
    });
    worker.once('message', (result: { requests: number; errors: number; elapsedMs: number }) => {
      resolve({ ...result, rps: (result.requests / result.elapsedMs) * 1000 });
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

export interface SpawnedService {
  child: import('node:child_process').ChildProcess;
  url: string;
  stop(): Promise<void>;
}

/** Runs a TypeScript entry point as its own process (own event loop, own core) and waits for its URL. */
export async function spawnService(entry: string, args: string[]): Promise<SpawnedService> {
  // FS_BENCH_PROFILE=<dir> writes a CPU profile of the server process there.
  const profileDir = process.env.FS_BENCH_PROFILE;
  const profile =
    profileDir && entry.includes('server') ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  return spawnServiceWith([...profile, '--conditions=flowscale-source', '--import', 'tsx', entry, ...args]);
}

async function spawnServiceWith(nodeArgs: string[]): Promise<SpawnedService> {
  const entry = nodeArgs.find((arg) => /\.(ts|mjs)$/.test(arg)) ?? 'process';
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, nodeArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${entry} did not start: ${output}`)), 60_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /listening on (http:\/\/[^\s)]+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${entry} exited with ${code}: ${output}`)));
  });
  return {
    child,
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export const ENGINE_BIN = 'packages/engine/src/bin.ts';
export const SERVER_BIN = 'packages/server/src/bin.ts';

/**
 * Bundles the server's bin the way a release build would (workspace sources inlined, npm dependencies left
 * to node_modules), so a measurement sees the server without the tsx dev loader. Code-split like the tsup
 * build, where `@flowscale/engine` stays a separate import: the embedded engine (and sharp with libvips) is
 * loaded only when it is used, not by a server in front of another backend. Written inside the repo so the
 * bundle's npm imports resolve from its node_modules; returns the entry file.
 */
export async function buildServerBundle(): Promise<string> {
  const esbuild = await import('esbuild');
  const outdir = path.join(process.cwd(), 'bench', `.server-bundle-${process.pid}`);
  await esbuild.build({
    entryPoints: { bin: 'packages/server/src/bin.ts' },
    outdir,
    outExtension: { '.js': '.mjs' },
    splitting: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['flowscale-source'],
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    plugins: [
      {
        name: 'npm-external',
        setup(build) {
          build.onResolve({ filter: /^[^./]/ }, (args) =>
            args.path.startsWith('@flowscale/') ? undefined : { path: args.path, external: true },
          );
        },
      },
    ],
    logLevel: 'error',
  });
  return path.join(outdir, 'bin.mjs');
}

/** Like spawnService, for the entry of buildServerBundle (no tsx); stopping it removes the bundle. */
export async function spawnBundle(file: string, args: string[]): Promise<SpawnedService> {
  const profileDir = process.env.FS_BENCH_PROFILE;
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const service = await spawnServiceWith([...profile, file, ...args]);
  const stop = service.stop;
  return {
    ...service,
    stop: async () => {
      await stop();
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    },
  };
}
