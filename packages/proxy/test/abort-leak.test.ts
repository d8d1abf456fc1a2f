import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningServer, startServer } from '@flowscale/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFlowScaleProxy, type FlowScaleProxyOptions, toNodeHandler } from '../src/index';
import { type CountingRelay, startCountingRelay } from './support/counting-relay';
import { type DroppedCall, dropNodeCall, dropWebCall } from './support/dropped-calls';
import { API_KEY } from './support/fixture';

// Issue 12: a caller that goes away while the proxy waits upstream (for the response headers, during the
// upload, mid-body, mid event stream) must not leave the proxy's upstream socket open. 1,000 calls through
// the proxy to the real server, each dropped at a random point; then the upstream side (a TCP relay in
// front of the server, counting the proxy's connections) must see none of them left.
const REQUESTS = Number(process.env.LEAK_REQUESTS ?? 1000);
// Idle pooled sockets close after 4 s (the proxy's pool and Node's fetch alike); a leaked one never does.
const SETTLE_MS = Number(process.env.LEAK_SETTLE_MS ?? 8000);

/** A fetch that ignores the abort: what a client that does not tear down its socket looks like. */
const fetchIgnoringAborts: typeof fetch = (input, init) => globalThis.fetch(input, { ...init, signal: null });

const FETCHES: Record<string, typeof fetch | undefined> = {
  default: undefined,
  native: globalThis.fetch,
  'ignore-abort': fetchIgnoringAborts,
};

let upstream: RunningServer;
let relay: CountingRelay;
let dataDir: string;
let calls: DroppedCall[];
let endlessRun = '';

async function submit(workflow: string, fields: Record<string, string>): Promise<string> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  const response = await fetch(`${upstream.url}/api/v1/runs?workflow_id=${workflow}`, {
    method: 'POST',
    headers: { 'x-api-key': API_KEY },
    body: form,
  });
  return (await response.json()).data.run_id;
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'fs-proxy-leak-'));
  upstream = await startServer({
    port: 0,
    dataDir,
    apiKeys: [API_KEY],
    logLevel: 'silent',
    rateLimit: 0,
    // Event streams keep sending, so one nobody reads fills up instead of idling.
    ssePingMs: 100,
    shutdownGraceMs: 500,
  });
  relay = await startCountingRelay(upstream.port);
  const done = await submit('text-echo', { default_value_1: 'x' });
  // Runs for the whole test: its event stream never ends on its own.
  endlessRun = await submit('slow-delay', { default_value_1: 'y', value_4: '600' });
  for (let i = 0; i < 30; i++) await submit('text-echo', { default_value_1: `list ${i}` });
  const upload = { method: 'POST', path: '/api/v1/runs?workflow_id=text-echo', point: 'upload' } as const;
  calls = [
    upload,
    { method: 'GET', path: `/api/v1/runs/${done}`, point: 'before-headers' },
    { method: 'GET', path: `/api/v1/runs/${endlessRun}/events`, point: 'before-headers' },
    { method: 'GET', path: '/api/v1/runs?page_size=100', point: 'before-headers' },
    upload,
    { method: 'GET', path: `/api/v1/runs/${endlessRun}/events`, point: 'mid-stream' },
    { method: 'GET', path: `/api/v1/runs/${done}/events`, point: 'mid-stream' },
    { method: 'GET', path: '/api/v1/runs?page_size=100', point: 'mid-body' },
  ];
}, 60_000);

afterAll(async () => {
  await relay?.close();
  await upstream?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function serveProxy(extra: Partial<FlowScaleProxyOptions>) {
  const proxy = createFlowScaleProxy({
    upstream: relay.url,
    apiKey: API_KEY,
    authenticate: () => ({ id: 'browser' }),
    rateLimit: false,
    maxStreamsPerCaller: false,
    ...extra,
  });
  const server = http.createServer(toNodeHandler(proxy));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { proxy, server, port: (server.address() as AddressInfo).port };
}

/** Drops `count` calls through the proxy, half as a Node server's clients, half through its Web handler. */
async function dropCalls(fetchImpl: typeof fetch | undefined, count: number, callers = 'both') {
  const { proxy, server, port } = await serveProxy(fetchImpl ? { fetch: fetchImpl } : {});
  const acceptedBefore = relay.accepted;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const n = next++;
      const call = calls[n % calls.length]!;
      const ms = Math.floor(Math.random() * (call.point === 'upload' ? 200 : 60));
      const viaNode = callers === 'node' || (callers === 'both' && Math.floor(n / calls.length) % 2 === 0);
      if (viaNode) await dropNodeCall(port, call, ms);
      else await dropWebCall(proxy, `http://127.0.0.1:${port}`, call, ms);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  const reachedUpstream = relay.accepted - acceptedBefore;
  const deadline = Date.now() + SETTLE_MS;
  while (relay.open > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  server.closeAllConnections();
  server.close();
  return { reachedUpstream, leftOpen: relay.open, leaked: relay.openRequests() };
}

describe('proxy: calls dropped by their caller leave no upstream socket open', () => {
  it(`${REQUESTS} calls dropped at random points: 0 upstream sockets left`, async () => {
    const which = process.env.LEAK_FETCH ?? 'default';
    const { reachedUpstream, leftOpen, leaked } = await dropCalls(
      FETCHES[which],
      REQUESTS,
      process.env.LEAK_CALLERS,
    );
    console.info(
      `abort-leak (${which} fetch): ${reachedUpstream} upstream connections, ${leftOpen} left open`,
    );
    expect(reachedUpstream, 'connections the proxy opened upstream').toBeGreaterThan(100);
    expect(leftOpen, `upstream sockets left open: ${leaked.join(', ')}`).toBe(0);
    // The server still answers.
    expect((await fetch(`${upstream.url}/healthz`)).status).toBe(200);
  }, 120_000);

  it('the count sees a leak when the upstream fetch ignores the abort', async () => {
    // The same drops with a fetch that keeps its socket: proof that the test above can fail.
    const { leftOpen } = await dropCalls(fetchIgnoringAborts, 160);
    expect(leftOpen).toBeGreaterThan(0);
  }, 120_000);
});
