// Peak RSS of the server process while it accepts a 1 GiB file input (streamed multipart, hashed and
// written to disk as it arrives), sampled every 10 ms. Baseline in the same run: the same server's RSS when
// idle, and its peak while accepting a 1 MiB input. Goal: peak < 150 MB. The server is its own process,
// run from a release-style bundle (no tsx loader in it; `--dev` runs the TypeScript sources through tsx
// instead); RSS comes from /proc.
//   node --conditions=flowscale-source --import tsx bench/server-upload-rss.ts
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import {
  buildServerBundle,
  ENGINE_BIN,
  fmt,
  memoryOf,
  SERVER_BIN,
  spawnBundle,
  spawnService,
  tempDir,
} from './server-support';

const KEY = 'bench-key-0123456789abcdef';
const MiB = 1024 * 1024;

const dataDir = tempDir('rss-server');
const engine = await spawnService(ENGINE_BIN, [
  '--port',
  '0',
  '--data-dir',
  tempDir('rss-engine'),
  '--log-level',
  'error',
]);
const serverArgs = [
  ...['--port', '0', '--data-dir', dataDir, '--api-key', KEY, '--workflows-dir', 'packages/server/workflows'],
  ...['--comfyui-url', engine.url, '--log-level', 'warn'],
];
const dev = process.argv.includes('--dev');
const server = dev
  ? await spawnService(SERVER_BIN, serverArgs)
  : await spawnBundle(await buildServerBundle(), serverArgs);
console.log(`server process: ${dev ? 'TypeScript sources through tsx' : 'bundled build'}`);
const pid = server.child.pid as number;

/** Streams a multipart body with one `image_1` file part of `totalBytes`, 1 MiB at a time. */
function upload(totalBytes: number): Promise<{ status: number; body: string; seconds: number }> {
  const boundary = `----bench${Date.now()}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="image_1"; filename="big.png"\r\nContent-Type: image/png\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const chunk = randomBytes(MiB);
  const url = new URL(`${server.url}/api/v1/runs?workflow_id=invert-image`);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: 'POST',
        headers: {
          'x-api-key': KEY,
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': head.length + totalBytes + tail.length,
        },
      },
      (response) => {
        let body = '';
        response.on('data', (data) => (body += data));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body, seconds: (performance.now() - started) / 1000 }),
        );
      },
    );
    request.on('error', reject);
    let sent = 0;
    const pump = (): void => {
      while (sent < totalBytes) {
        const size = Math.min(MiB, totalBytes - sent);
        sent += size;
        if (!request.write(size === MiB ? chunk : chunk.subarray(0, size))) {
          request.once('drain', pump);
          return;
        }
      }
      request.end(tail);
    };
    request.write(head);
    pump();
  });
}

/** Peak RSS sampled every 10 ms while `work` runs (VmHWM would also include the start-up peak). */
async function sampledPeak<T>(work: () => Promise<T>): Promise<{ result: T; peakMiB: number }> {
  let peakMiB = memoryOf(pid).rssMiB;
  const timer = setInterval(() => {
    peakMiB = Math.max(peakMiB, memoryOf(pid).rssMiB);
  }, 10);
  try {
    const result = await work();
    return { result, peakMiB: Math.max(peakMiB, memoryOf(pid).rssMiB) };
  } finally {
    clearInterval(timer);
  }
}

await new Promise((resolve) => setTimeout(resolve, 2000));
const idle = memoryOf(pid);
const small = await sampledPeak(() => upload(MiB));
const big = await sampledPeak(() => upload(1024 * MiB));
const lifetime = memoryOf(pid);
if (small.result.status !== 201 || big.result.status !== 201) {
  throw new Error(`uploads answered ${small.result.status} / ${big.result.status}: ${big.result.body}`);
}
const mb = (mib: number): string => fmt((mib * MiB) / 1e6);
console.log(`idle server                  RSS ${fmt(idle.rssMiB)} MiB`);
console.log(`accepting a 1 MiB input      peak RSS ${fmt(small.peakMiB)} MiB`);
console.log(
  `accepting a 1 GiB input      peak RSS ${fmt(big.peakMiB)} MiB = ${mb(big.peakMiB)} MB  (${fmt(big.result.seconds)} s, ${fmt(1024 / big.result.seconds, 0)} MiB/s)`,
);
console.log(
  `lifetime peak (VmHWM, includes start-up) ${fmt(lifetime.peakMiB)} MiB = ${mb(lifetime.peakMiB)} MB`,
);
console.log(
  `1 GiB peak / idle: ${fmt(big.peakMiB / idle.rssMiB, 2)}×, 1 GiB vs 1 MiB input: +${fmt(big.peakMiB - small.peakMiB)} MiB (goal: peak < 150 MB)`,
);
await server.stop();
await engine.stop();
fs.rmSync(dataDir, { recursive: true, force: true });
