// The cost of onUploadProgress: executeWorkflow uploading a 64 MiB in-memory input (a Blob) to a loopback
// server that discards it (a child process), with and without a progress callback, in paired rounds in the
// same run. Prints the callbacks per MiB and the median time of each, with their ratio.
// Run: node --conditions=flowscale-source --import tsx bench/sdk-upload-progress.ts
import { FlowscaleAPI } from 'flowscale';
import { startLoopbackServer } from './sdk-support';

const MIB = 1024 * 1024;
const SIZE_MIB = Number(process.env.SDK_BENCH_PROGRESS_MIB ?? 64);
const ROUNDS = Number(process.env.SDK_BENCH_PROGRESS_ROUNDS ?? 8);

const { url, child } = await startLoopbackServer();
const api = new FlowscaleAPI({ apiKey: 'bench', baseUrl: url, enableLogging: false, retries: 0 });
const blob = new Blob([new Uint8Array(SIZE_MIB * MIB).fill(0x61)], { type: 'application/octet-stream' });

async function upload(withProgress: boolean): Promise<{ ms: number; calls: number; loaded: number }> {
  let calls = 0;
  let loaded = 0;
  const start = performance.now();
  await api.executeWorkflow('bench', { image_1: blob }, undefined, {
    onUploadProgress: withProgress
      ? (p) => {
          calls++;
          loaded = p.loaded;
        }
      : undefined,
  });
  return { ms: performance.now() - start, calls, loaded };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
await upload(false); // warm up the connection and the JIT
await upload(true);
const plain: number[] = [];
const counted: number[] = [];
let calls = 0;
let loaded = 0;
for (let i = 0; i < ROUNDS; i++) {
  // Alternate the order so drift on a shared machine hits both sides alike.
  const pair = i % 2 ? [true, false] : [false, true];
  for (const withProgress of pair) {
    const r = await upload(withProgress);
    (withProgress ? counted : plain).push(r.ms);
    if (withProgress) ({ calls, loaded } = r);
  }
}
child.kill();
const a = median(plain);
const b = median(counted);
console.log(`executeWorkflow, ${SIZE_MIB} MiB Blob input, loopback sink, ${ROUNDS} paired rounds (median)`);
console.log(`  without onUploadProgress: ${a.toFixed(1)} ms (${((SIZE_MIB / a) * 1000).toFixed(0)} MiB/s)`);
console.log(`  with onUploadProgress:    ${b.toFixed(1)} ms (${((SIZE_MIB / b) * 1000).toFixed(0)} MiB/s)`);
console.log(`  ratio with/without:       ${(b / a).toFixed(3)}`);
console.log(
  `  callbacks: ${calls} per upload of ${loaded} B = ${(calls / (loaded / MIB)).toFixed(1)} per MiB`,
);
