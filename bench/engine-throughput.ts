/**
 * Engine throughput, latency and memory, against a real engine process on 127.0.0.1.
 *
 *   node --conditions=flowscale-source --import tsx bench/engine-throughput.ts [--prompts 1000]
 *
 * Phases (the baseline is measured in the same run):
 *   1. baseline: PrimitiveString -> PreviewAny, one at a time (protocol + queue overhead only);
 *   2. latency: EmptyImage(512x512) -> SaveImage one at a time, POST /prompt -> `executing {node: null}`;
 *   3. throughput: the same prompt with 8 in flight, prompts/s;
 * every image prompt uses a new colour, so nothing is served from cache. RSS is read from /proc after
 * each phase; the engine's own counters (/system_stats "engine") show history and cache staying bounded.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values } = parseArgs({ options: { prompts: { type: 'string', default: '1000' } } });
const TOTAL = Number(values.prompts);
const BASELINE = 200;
const LATENCY = Math.round(TOTAL * 0.3);
const THROUGHPUT = TOTAL - LATENCY;
const WINDOW = 8;
const hardStop = setTimeout(() => {
  console.error('bench: hard time limit (300 s) reached');
  process.exit(2);
}, 300_000);

async function startEngineProcess(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const bin = path.join(import.meta.dirname, '../packages/engine/src/bin.ts');
  const child = spawn(
    process.execPath,
    [
      '--conditions=flowscale-source',
      '--import',
      'tsx',
      bin,
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      const match = /listening on (http:\/\/\S+)/.exec(String(chunk));
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`engine exited with ${code}`)));
  });
  return { child, url };
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

class Completions {
  private readonly waiters = new Map<string, () => void>();
  private readonly done = new Set<string>();
  constructor(socket: WebSocket) {
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      const msg = JSON.parse(String(data)) as { type: string; data: { node?: unknown; prompt_id?: string } };
      if (msg.type !== 'executing' || msg.data.node !== null || !msg.data.prompt_id) return;
      const waiter = this.waiters.get(msg.data.prompt_id);
      if (waiter) waiter();
      else this.done.add(msg.data.prompt_id);
    });
  }
  wait(promptId: string): Promise<void> {
    if (this.done.delete(promptId)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.set(promptId, resolve));
  }
}

const imagePrompt = (i: number) => ({
  '1': {
    class_type: 'EmptyImage',
    inputs: { width: 512, height: 512, batch_size: 1, color: (i * 7919) % 0xffffff },
  },
  '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'bench/img' } },
});
const textPrompt = (i: number) => ({
  '1': { class_type: 'PrimitiveString', inputs: { value: `v${i}` } },
  '2': { class_type: 'PreviewAny', inputs: { source: ['1', 0] } },
});

async function runOne(url: string, done: Completions, prompt: unknown): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${url}/prompt`, {
    method: 'POST',
    body: JSON.stringify({ prompt, client_id: 'bench' }),
  });
  const body = (await res.json()) as { prompt_id: string };
  if (res.status !== 200) throw new Error(`POST /prompt ${res.status}: ${JSON.stringify(body)}`);
  await done.wait(body.prompt_id);
  return performance.now() - t0;
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

async function sequential(
  url: string,
  done: Completions,
  n: number,
  make: (i: number) => unknown,
  offset: number,
) {
  const times: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) times.push(await runOne(url, done, make(offset + i)));
  const seconds = (performance.now() - t0) / 1000;
  times.sort((a, b) => a - b);
  return { perSecond: n / seconds, median: pct(times, 0.5), p99: pct(times, 0.99) };
}

async function pipelined(url: string, done: Completions, n: number, offset: number) {
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < n) await runOne(url, done, imagePrompt(offset + next++));
  };
  await Promise.all(Array.from({ length: WINDOW }, worker));
  return n / ((performance.now() - t0) / 1000);
}

async function engineStats(url: string) {
  const res = await fetch(`${url}/system_stats`);
  return ((await res.json()) as { engine: Record<string, number> }).engine;
}

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'engine-bench-'));
const { child, url } = await startEngineProcess(dataDir);
try {
  const socket = new WebSocket(`${url.replace('http', 'ws')}/ws?clientId=bench`);
  await new Promise((resolve) => socket.once('open', resolve));
  const done = new Completions(socket);
  const pid = child.pid as number;
  const rssStart = await rssMb(pid);

  const base = await sequential(url, done, BASELINE, textPrompt, 0);
  const latency = await sequential(url, done, LATENCY, imagePrompt, 0);
  const rssMid = await rssMb(pid);
  // Throughput in chunks, sampling RSS after each, to show memory levelling off.
  const rssSeries: number[] = [];
  const chunk = 250;
  let throughputTime = 0;
  for (let sent = 0; sent < THROUGHPUT; sent += chunk) {
    const n = Math.min(chunk, THROUGHPUT - sent);
    throughputTime += n / (await pipelined(url, done, n, LATENCY + sent));
    rssSeries.push(await rssMb(pid));
  }
  const throughput = THROUGHPUT / throughputTime;
  const rssEnd = rssSeries.at(-1) ?? rssMid;
  const stats = await engineStats(url);

  const f = (n: number) => n.toFixed(1);
  console.log(`engine bench: ${os.cpus().length} CPUs, node ${process.version}, engine pid ${pid}`);
  console.log(
    `baseline  PrimitiveString->PreviewAny, sequential x${BASELINE}: ${f(base.perSecond)} prompts/s, latency median ${f(base.median)} ms, p99 ${f(base.p99)} ms`,
  );
  console.log(
    `latency   EmptyImage(512x512)->SaveImage, sequential x${LATENCY}: ${f(latency.perSecond)} prompts/s, POST->executing{null} median ${f(latency.median)} ms, p99 ${f(latency.p99)} ms (${f(latency.median / base.median)}x baseline median)`,
  );
  console.log(
    `throughput EmptyImage(512x512)->SaveImage, ${WINDOW} in flight x${THROUGHPUT}: ${f(throughput)} prompts/s (${f(throughput / latency.perSecond)}x sequential)`,
  );
  console.log(
    `memory    RSS start ${f(rssStart)} MB, after ${BASELINE + LATENCY} prompts ${f(rssMid)} MB, after ${BASELINE + TOTAL} prompts ${f(rssEnd)} MB (${f(rssEnd / rssStart)}x start)`,
  );
  console.log(`          RSS every ${chunk} throughput prompts: ${rssSeries.map(f).join(', ')} MB`);
  console.log(
    `bounded   history ${stats.history_entries} entries / ${f((stats.history_bytes ?? 0) / 1e6)} MB (max 10000 / 67 MB); cache ${stats.cache_entries} entries / ${f((stats.cache_bytes ?? 0) / 1e6)} MB (max 1000 / 134 MB)`,
  );
  socket.close();
} finally {
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  await rm(dataDir, { recursive: true, force: true });
  clearTimeout(hardStop);
}
