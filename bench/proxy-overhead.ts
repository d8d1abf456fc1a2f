// What @flowscale/proxy adds on top of talking to the API directly, on loopback, through the Node
// adapter with a bearer token and the workflow allow-list on (the production shape):
//   request latency   GET /api/v1/comfy/health against the real server (embedded engine)
//   event latency     time from an upstream SSE write to the client reading it (synthetic upstream
//                     that stamps each event, so only the proxy hop differs)
//   upload throughput a 64 MiB streamed multipart body into a sink upstream, and the proxy's RSS
//                     growth meanwhile (streaming means it must not grow with the body)
// Run: node --conditions=flowscale-source --import tsx bench/proxy-overhead.ts
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createFlowScaleProxy, toNodeHandler } from '@flowscale/proxy';
import { startServer } from '@flowscale/server';

const TOKEN = 'bench-session';
const listen = async (server: http.Server) => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};
const proxyFor = (upstream: string, apiKey: string) =>
  listen(
    http.createServer(
      toNodeHandler(
        createFlowScaleProxy({
          upstream,
          apiKey,
          authenticate: (r) =>
            r.headers.get('authorization') === `Bearer ${TOKEN}` ? { id: 'bench' } : null,
          allow: { workflows: ['invert-image', 'x'] },
          rateLimit: false,
          maxBodyBytes: 1 << 30,
        }),
      ),
    ),
  );
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)]!;
const ms = (x: number) => `${x.toFixed(2)} ms`;

// 1. Request latency against the real server.
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fs-bench-proxy-'));
const server = await startServer({ port: 0, dataDir, apiKeys: ['bench-key'], logLevel: 'error' });
const viaProxy = await proxyFor(server.url, 'bench-key');
async function latency(url: string, headers: Record<string, string>, n = 400): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const res = await fetch(`${url}/api/v1/comfy/health`, { headers });
    await res.arrayBuffer();
    if (i >= 50) out.push(performance.now() - t); // after warm-up
  }
  return out;
}
const direct = await latency(server.url, { 'x-api-key': 'bench-key' });
const proxied = await latency(viaProxy, { authorization: `Bearer ${TOKEN}` });
console.log('GET /api/v1/comfy/health (350 sequential requests)');
console.log(`  direct   p50 ${ms(pct(direct, 0.5))}  p99 ${ms(pct(direct, 0.99))}`);
console.log(`  proxied  p50 ${ms(pct(proxied, 0.5))}  p99 ${ms(pct(proxied, 0.99))}`);

// 2. Event latency: the upstream stamps each event with its write time.
const sse = await listen(
  http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let n = 0;
    const timer = setInterval(() => {
      res.write(`data: ${performance.now()}\n\n`);
      if (++n === 300) {
        clearInterval(timer);
        res.end();
      }
    }, 5);
    res.on('close', () => clearInterval(timer));
  }),
);
const sseProxy = await proxyFor(sse, 'k');
async function eventDelays(url: string, headers: Record<string, string>): Promise<number[]> {
  const res = await fetch(`${url}/api/v1/runs/bench/events`, { headers });
  const delays: number[] = [];
  let buffer = '';
  for await (const chunk of res.body!.pipeThrough(new TextDecoderStream())) {
    const now = performance.now();
    buffer += chunk;
    for (let i = buffer.indexOf('\n\n'); i !== -1; i = buffer.indexOf('\n\n')) {
      delays.push(now - Number(buffer.slice(6, i)));
      buffer = buffer.slice(i + 2);
    }
  }
  return delays;
}
await eventDelays(sse, {}); // warm-up
const sseDirect = await eventDelays(sse, {});
const sseProxied = await eventDelays(sseProxy, { authorization: `Bearer ${TOKEN}` });
console.log('SSE event delay, write to read (300 events)');
console.log(`  direct   p50 ${ms(pct(sseDirect, 0.5))}  p99 ${ms(pct(sseDirect, 0.99))}`);
console.log(`  proxied  p50 ${ms(pct(sseProxied, 0.5))}  p99 ${ms(pct(sseProxied, 0.99))}`);

// 3. Upload throughput and memory into a sink.
const sink = await listen(
  http.createServer(async (req, res) => {
    let bytes = 0;
    for await (const chunk of req) bytes += (chunk as Buffer).length;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ bytes }));
  }),
);
const sinkProxy = await proxyFor(sink, 'k');
const SIZE = 64 * 1024 * 1024;
async function upload(url: string, headers: Record<string, string>) {
  const chunk = new Uint8Array(1024 * 1024);
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= SIZE) controller.close();
      else {
        controller.enqueue(chunk);
        sent += chunk.length;
      }
    },
  });
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  const t = performance.now();
  const res = await fetch(`${url}/api/v1/runs?workflow_id=x`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'multipart/form-data; boundary=b' },
    body,
    duplex: 'half',
  } as RequestInit);
  const { bytes } = (await res.json()) as { bytes: number };
  clearInterval(sampler);
  const seconds = (performance.now() - t) / 1000;
  return { mbps: bytes / 1024 / 1024 / seconds, growth: (peak - rssBefore) / 1024 / 1024, bytes };
}
const upDirect = await upload(sink, {});
const upProxied = await upload(sinkProxy, { authorization: `Bearer ${TOKEN}` });
console.log('64 MiB streamed upload (client, proxy and sink share this process)');
console.log(`  direct   ${upDirect.mbps.toFixed(0)} MiB/s, RSS growth ${upDirect.growth.toFixed(1)} MiB`);
console.log(
  `  proxied  ${upProxied.mbps.toFixed(0)} MiB/s, RSS growth ${upProxied.growth.toFixed(1)} MiB, ${upProxied.bytes} bytes arrived`,
);

await server.close();
fs.rmSync(dataDir, { recursive: true, force: true });
process.exit(0);
