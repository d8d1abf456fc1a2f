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
  const { userMs, systemMs } = cpuSplitMsOf(pid);
  return userMs + systemMs;
}

/** CPU time a process has used so far in user space and in the kernel, in ms, from /proc. */
export function cpuSplitMsOf(pid: number): { userMs: number; systemMs: number } {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return { userMs: Number(fields[11]) * 10, systemMs: Number(fields[12]) * 10 };
}

/**
 * Machine-wide counters that explain loopback latency tails: packets the kernel dropped because its per-CPU
 * receive backlog was full (net.core.netdev_max_backlog, /proc/net/softnet_stat column 2), and TCP
 * segments retransmitted (each one waits at least the 200 ms minimum RTO).
 */
export function netCounters(): { backlogDrops: number; retransmits: number } {
  const backlogDrops = fs
    .readFileSync('/proc/net/softnet_stat', 'utf8')
    .trim()
    .split('\n')
    .reduce((sum, line) => sum + Number.parseInt(line.split(/\s+/)[1] ?? '0', 16), 0);
  const tcp = fs
    .readFileSync('/proc/net/snmp', 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('Tcp:'));
  const names = tcp[0]?.split(/\s+/) ?? [];
  const values = tcp[1]?.split(/\s+/) ?? [];
  return { backlogDrops, retransmits: Number(values[names.indexOf('RetransSegs')]) };
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
  /** What the process printed so far (stdout and stderr; the last MiB). */
  output(): string;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** Node options before the entry (e.g. `--import` of a preload). */
  nodeArgs?: string[];
}

/** Runs a TypeScript entry point as its own process (own event loop, own core) and waits for its URL. */
export async function spawnService(
  entry: string,
  args: string[],
  options: SpawnOptions = {},
): Promise<SpawnedService> {
  // FS_BENCH_PROFILE=<dir> writes a CPU profile of the server process there.
  const profileDir = process.env.FS_BENCH_PROFILE;
  const profile =
    profileDir && entry.includes('server') ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const nodeArgs = [...profile, ...(options.nodeArgs ?? []), '--conditions=flowscale-source'];
  return spawnServiceWith([...nodeArgs, '--import', 'tsx', entry, ...args], options.env);
}

const OUTPUT_KEPT = 1 << 20;

// A bench that fails half-way must not leave its engines and servers running.
const children = new Set<import('node:child_process').ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

async function spawnServiceWith(nodeArgs: string[], env?: Record<string, string>): Promise<SpawnedService> {
  const entry = nodeArgs.find((arg) => /\.(ts|mjs)$/.test(arg)) ?? 'process';
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, nodeArgs, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let output = '';
  // Kept reading for the process's whole life, so a chatty child never blocks on a full pipe.
  const onData = (chunk: Buffer): void => {
    output += chunk.toString();
    if (output.length > 2 * OUTPUT_KEPT) output = output.slice(-OUTPUT_KEPT);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${entry} did not start: ${output}`)), 60_000);
    const onStart = (): void => {
      const match = /listening on (http:\/\/[^\s)]+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        child.stdout?.off('data', onStart);
        child.stderr?.off('data', onStart);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onStart);
    child.stderr?.on('data', onStart);
    child.once('exit', (code) => reject(new Error(`${entry} exited with ${code}: ${output}`)));
  });
  return {
    child,
    url,
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
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
          // Workspace packages (the SDK too: the server imports `flowscale/events`) are inlined from source.
          build.onResolve({ filter: /^[^./]/ }, (args) =>
            /^(@flowscale\/|flowscale(\/|$))/.test(args.path)
              ? undefined
              : { path: args.path, external: true },
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
  const service = await spawnBundled(file, args);
  const stop = service.stop;
  return {
    ...service,
    stop: async () => {
      await stop();
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    },
  };
}

/** Like spawnBundle, for one of several processes sharing a bundle: the caller removes the bundle's folder. */
export function spawnBundled(
  file: string,
  args: string[],
  options: SpawnOptions = {},
): Promise<SpawnedService> {
  const profileDir = process.env.FS_BENCH_PROFILE;
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  return spawnServiceWith([...profile, ...(options.nodeArgs ?? []), file, ...args], options.env);
}

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

const ADMIN_URL = process.env.FS_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A fresh Postgres database on 127.0.0.1 with a unique name; `drop` removes it (and its connections). */
export async function createBenchDatabase(label: string): Promise<BenchDatabase> {
  const { default: pg } = await import('pg');
  const name = `fs_bench_${label}_${Math.random().toString(16).slice(2, 10)}`.replace(/[^a-z0-9_]/g, '_');
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect().catch((error: Error) => {
    throw new Error(
      `Postgres is not reachable at ${ADMIN_URL} (${error.message}); start it with ` +
        'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
    );
  });
  try {
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

// A deliberately light SSE client (for the fan-out bench): raw sockets, no event parsing. It finds each
// event's `"ts":"` field with indexOf and records receipt time − ts in a 1 ms histogram, so the client's own
// cost stays far below the server's. Frames split across TCP reads are handled with a small carry.
const SSE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const { port, host, key } = workerData;
const MARK = Buffer.from('"ts":"');
const TS_LENGTH = 24; // 2026-01-01T00:00:00.000Z
const BINS = 120001;
let histogram = new Uint32Array(BINS);
let fromSeq = 1; // the live end of the log, kept current by the main thread; "{from}" in a path is replaced by it
let deliveries = 0, errors = 0, closed = 0;
const sockets = new Set();
function open(path) {
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    let carry = null, connected = false;
    const done = (ok) => { if (!connected) { connected = true; resolve(ok); } };
    socket.on('connect', () =>
      socket.write('GET ' + path.replace('{from}', String(fromSeq)) + ' HTTP/1.1\\r\\nHost: ' + host + ':' + port + '\\r\\nx-api-key: ' + key + '\\r\\n\\r\\n'));
    socket.on('error', () => { errors++; done(false); });
    socket.on('close', () => { closed++; sockets.delete(socket); done(false); });
    socket.on('data', (chunk) => {
      const now = Date.now();
      if (!connected) {
        if (!chunk.toString('latin1', 0, 12).startsWith('HTTP/1.1 200')) { errors++; socket.destroy(); return; }
        done(true);
      }
      const data = carry ? Buffer.concat([carry, chunk]) : chunk;
      const msOfDay = now % 86400000;
      let at = data.indexOf(MARK), next = 0;
      while (at >= 0 && at + MARK.length + TS_LENGTH <= data.length) {
        const start = at + MARK.length;
        // "YYYY-MM-DDTHH:MM:SS.mmmZ": the time of day from its digits, cheaper than Date.parse.
        const d = (i) => data[start + i] - 48;
        const sent = (((d(11) * 10 + d(12)) * 60 + d(14) * 10 + d(15)) * 60 + d(17) * 10 + d(18)) * 1000
          + d(20) * 100 + d(21) * 10 + d(22);
        let latency = msOfDay - sent;
        if (latency < -43200000) latency += 86400000; // sent before midnight, received after
        histogram[Math.min(BINS - 1, Math.max(0, latency))]++;
        deliveries++;
        next = start + TS_LENGTH;
        at = data.indexOf(MARK, next);
      }
      // A read that ends on a chunk boundary (CRLF after the frame) leaves nothing to carry.
      const whole = data.length >= 2 && data[data.length - 2] === 13 && data[data.length - 1] === 10;
      const keep = whole ? data.length : Math.max(next, data.length - MARK.length - TS_LENGTH);
      carry = keep < data.length ? data.subarray(keep) : null;
    });
    sockets.add(socket);
  });
}
parentPort.on('message', async (message) => {
  if (message.type === 'open') {
    let ok = 0, index = 0;
    const lane = async () => { while (index < message.count) { index++; if (await open(message.path)) ok++; } };
    await Promise.all(Array.from({ length: Math.min(message.concurrency, message.count) }, lane));
    parentPort.postMessage({ type: 'opened', ok });
  } else if (message.type === 'from') {
    fromSeq = message.seq;
  } else if (message.type === 'reset') {
    histogram = new Uint32Array(BINS); deliveries = 0; errors = 0; closed = 0;
    parentPort.postMessage({ type: 'reset' });
  } else if (message.type === 'report') {
    parentPort.postMessage({ type: 'report', histogram, deliveries, errors, closed, open: sockets.size });
  } else if (message.type === 'close') {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    parentPort.postMessage({ type: 'closed' });
  }
});
`;

export interface SseReport {
  deliveries: number;
  errors: number;
  closed: number;
  open: number;
  /** Delivery latency histogram, one bin per ms (the last bin holds everything above). */
  histogram: Uint32Array;
}

/** SSE subscribers spread over worker threads; the caller opens, resets, reads and closes them in phases. */
export class SseSubscribers {
  readonly #workers: Worker[];

  constructor(url: string, key: string, threads: number) {
    const target = new URL(url);
    this.#workers = Array.from(
      { length: threads },
      () =>
        new Worker(SSE_WORKER, {
          eval: true,
          workerData: { port: Number(target.port), host: target.hostname, key },
        }),
    );
  }

  #ask<T>(worker: Worker, message: Record<string, unknown>, reply: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const onMessage = (answer: { type: string }): void => {
        if (answer.type !== reply) return;
        worker.off('message', onMessage);
        worker.off('error', reject);
        resolve(answer as T);
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
      worker.postMessage(message);
    });
  }

  #all<T>(message: Record<string, unknown>, reply: string): Promise<T[]> {
    return Promise.all(this.#workers.map((worker) => this.#ask<T>(worker, message, reply)));
  }

  /** The seq that `{from}` in an opened path stands for, from now on. */
  setFrom(seq: number): void {
    for (const worker of this.#workers) worker.postMessage({ type: 'from', seq });
  }

  /** Opens `count` streams of `path`, split over the threads; resolves with how many answered 200. */
  async open(path: string, count: number, concurrency = 128): Promise<number> {
    const share = (index: number): number =>
      Math.floor(count / this.#workers.length) + (index < count % this.#workers.length ? 1 : 0);
    const answers = await Promise.all(
      this.#workers.map((worker, index) =>
        this.#ask<{ ok: number }>(worker, { type: 'open', path, count: share(index), concurrency }, 'opened'),
      ),
    );
    return answers.reduce((sum, answer) => sum + answer.ok, 0);
  }

  async reset(): Promise<void> {
    await this.#all({ type: 'reset' }, 'reset');
  }

  async report(): Promise<SseReport> {
    const reports = await this.#all<SseReport>({ type: 'report' }, 'report');
    const histogram = new Uint32Array(reports[0]?.histogram.length ?? 0);
    for (const report of reports)
      for (const [bin, n] of report.histogram.entries()) histogram[bin] = (histogram[bin] ?? 0) + n;
    const sum = (field: 'deliveries' | 'errors' | 'closed' | 'open'): number =>
      reports.reduce((total, report) => total + report[field], 0);
    return {
      deliveries: sum('deliveries'),
      errors: sum('errors'),
      closed: sum('closed'),
      open: sum('open'),
      histogram,
    };
  }

  async closeStreams(): Promise<void> {
    await this.#all({ type: 'close' }, 'closed');
  }

  async stop(): Promise<void> {
    await Promise.all(this.#workers.map((worker) => worker.terminate()));
  }
}

/** The p-th percentile of a histogram with one bin per unit. */
export function histogramPercentile(histogram: Uint32Array, p: number): number {
  const total = histogram.reduce((sum, n) => sum + n, 0);
  if (total === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (const [bin, n] of histogram.entries()) {
    seen += n;
    if (seen >= rank) return bin;
  }
  return histogram.length - 1;
}
