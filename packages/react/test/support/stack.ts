import { Blob as NodeBlob, File as NodeFile } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFlowScaleProxy, toNodeHandler } from '@flowscale/proxy';
import { startServer } from '@flowscale/server';
import { FlowscaleAPI } from 'flowscale';

export const API_KEY = 'test-key';

// jsdom swaps in its own Blob, which Node's fetch cannot send; the SDK builds multipart bodies as
// Blobs. Real browsers have one Blob (the example's Chromium test covers that path).
globalThis.Blob = NodeBlob as unknown as typeof Blob;
globalThis.File = NodeFile as unknown as typeof File;

/**
 * The production shape, all real: SDK (proxyMode) -> @flowscale/proxy -> pass-through -> server +
 * engine. The pass-through counts open run-event streams, so tests can see a stream really close.
 */
export async function startStack() {
  const token = randomBytes(16).toString('hex');
  const dataDir = await mkdtemp(join(tmpdir(), 'fs-react-test-'));
  const server = await startServer({ port: 0, dataDir, apiKeys: [API_KEY], logLevel: 'silent' });
  const target = new URL(server.url);
  let openStreams = 0;
  const passThrough = http.createServer((req, res) => {
    const isStream = /\/events(\?|$)/.test(req.url ?? '');
    if (isStream) {
      openStreams++;
      res.once('close', () => openStreams--);
    }
    const out = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        res.flushHeaders();
        up.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    res.on('close', () => out.destroy());
    req.pipe(out);
  });
  const proxyServer = http.createServer(
    toNodeHandler(
      createFlowScaleProxy({
        upstream: await listen(passThrough),
        apiKey: API_KEY,
        // A plain session token: JWTs are the proxy suite's business, and jose refuses jsdom's Uint8Array.
        authenticate: (request) =>
          request.headers.get('authorization') === `Bearer ${token}` ? { id: 'tester' } : null,
        allow: { workflows: ['slow-delay', 'text-echo'] },
        rateLimit: false,
      }),
    ),
  );
  const proxyUrl = await listen(proxyServer);
  const nodeFetch = globalThis.fetch.bind(globalThis);

  return {
    serverUrl: server.url,
    get openStreams() {
      return openStreams;
    },
    /** A browser-style client: proxy mode, a bearer token, no API key. */
    browserClient: (onRequest?: (url: string) => void) =>
      new FlowscaleAPI({
        baseUrl: proxyUrl,
        proxyMode: true,
        customHeaders: { Authorization: `Bearer ${token}` },
        enableLogging: false,
        fetchImpl: (url, init) => {
          onRequest?.(String(url));
          return nodeFetch(url, init);
        },
      }),
    /** A server-side client straight to the server, to set up and check runs independently. */
    adminClient: () =>
      new FlowscaleAPI({
        baseUrl: server.url,
        apiKey: API_KEY,
        // jsdom makes this look like a browser; this client stands for the test's server side.
        allowDangerouslyExposeApiKey: true,
        enableLogging: false,
        fetchImpl: nodeFetch,
      }),
    async close() {
      for (const s of [proxyServer, passThrough]) {
        s.closeAllConnections();
        await new Promise((resolve) => s.close(resolve));
      }
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function listen(server: http.Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export type Stack = Awaited<ReturnType<typeof startStack>>;
