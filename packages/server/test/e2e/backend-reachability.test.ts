import fs from 'node:fs';
import net from 'node:net';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { children, killHard, spawnServer } from '../support/child-server';
import { formOf, startTestServer, type TestServer, tempDir, waitFor } from '../support/harness';
import { solidPng } from '../support/png';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

const dirs: string[] = [];
const servers: TestServer[] = [];
const sockets: net.Server[] = [];
afterAll(async () => {
  for (const server of servers) await server.close();
  for (const socket of sockets) socket.close();
  for (const child of [...children]) await killHard(child);
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

const dir = (label: string): string => {
  const made = tempDir(label);
  dirs.push(made);
  return made;
};

/** A loopback TCP server; `onSocket` decides what it does with each connection. */
async function tcpServer(onSocket: (socket: net.Socket) => void): Promise<number> {
  const server = net.createServer(onSocket);
  sockets.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

const closedPort = async (): Promise<number> => {
  const port = await tcpServer(() => undefined);
  await new Promise((resolve) => sockets.pop()!.close(resolve));
  return port;
};

describe('an unreachable backend is logged with the reason', () => {
  it('refused, DNS, TLS and handshake timeout, each in its own line', async () => {
    const refused = `http://127.0.0.1:${await closedPort()}`;
    const dns = 'http://no-such-backend.invalid:8188';
    // TLS to something that speaks plain HTTP: the TLS handshake fails.
    const plain = await tcpServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    const tls = `https://127.0.0.1:${plain}`;
    // Accepts TCP, never answers the upgrade.
    const silent = `http://127.0.0.1:${await tcpServer(() => undefined)}`;
    const server = await spawnServer(dir('unreach'), undefined, [
      '--api-key',
      'k-0123456789abcdef',
      '--log-level',
      'warn',
      '--comfyui-url',
      [refused, dns, tls, silent].join(','),
    ]);
    const lines = (): string[] => server.output().split('\n');
    const lineFor = (url: string): string | undefined =>
      lines().find((line) => line.includes('backend unreachable: ') && line.includes(`"url":"${url}"`));
    await waitFor(
      async () => [refused, dns, tls, silent].map(lineFor),
      (found) => found.every(Boolean),
      60_000,
    );
    expect(lineFor(refused)).toContain('connection refused (nothing listens on that port) (ECONNREFUSED)');
    expect(lineFor(dns)).toMatch(/DNS: (host name not found \(ENOTFOUND\)|lookup failed for now)/);
    expect(lineFor(tls)).toMatch(/"reason":"TLS: .*\((ERR_SSL_|EPROTO)/);
    expect(lineFor(silent)).toContain('timed out waiting for the WebSocket handshake');
    // Logged once per reason, not on every reconnect attempt.
    expect(
      lines().filter((line) => line.includes(`"url":"${refused}"`) && line.includes('unreachable:')),
    ).toHaveLength(1);
  });
});

describe('a run with no backend reachable', () => {
  it('says so in its record and events, and FLOWSCALE_QUEUE_TIMEOUT fails it', async () => {
    const server = await startTestServer({
      comfyuiUrls: [`http://127.0.0.1:${await closedPort()}`],
      queueTimeoutMs: 3000,
    });
    servers.push(server);
    const submitted = await server.request('/api/v1/runs?workflow_id=text-echo', {
      method: 'POST',
      body: formOf({}),
    });
    expect(submitted.status).toBe(201);
    const runId = ((await submitted.json()) as { data: { run_id: string } }).data.run_id;
    const record = async () =>
      ((await (await server.request(`/api/v1/runs/${runId}`)).json()) as { data: Record<string, unknown> })
        .data;
    const queued = await record();
    expect(queued.status).toBe('queued');
    expect(queued.waiting).toBe('waiting for a backend: none reachable');

    const failed = await waitFor(record, (run) => run.status === 'failed', 30_000);
    expect((failed.error as { message: string }).message).toBe(
      'No backend could take the run within 3000 ms (FLOWSCALE_QUEUE_TIMEOUT): none reachable',
    );
    expect(failed.waiting).toBeUndefined();
    const events = await (await server.request(`/api/v1/runs/${runId}/events`)).text();
    expect(events).toMatch(/event: run\.queued\ndata: .*"waiting":"waiting for a backend: none reachable"/);
    expect(events).toContain('event: run.failed');
  });
});

describe('input size and the embedded engine', () => {
  it('the embedded engine takes what the server accepts (above its own 100 MiB default)', async () => {
    const MiB = 1024 * 1024;
    const server = await startTestServer({ maxFileBytes: 110 * MiB });
    servers.push(server);
    // A valid PNG followed by padding: decoders stop at IEND, the upload is 101 MiB.
    const png = Buffer.concat([solidPng(4, 4, [10, 20, 30]), Buffer.alloc(101 * MiB)]);
    const response = await server.request('/api/v1/runs?workflow_id=invert-image', {
      method: 'POST',
      body: formOf({ image_1: new Blob([new Uint8Array(png)], { type: 'image/png' }) }),
    });
    expect(response.status).toBe(201);
    const runId = ((await response.json()) as { data: { run_id: string } }).data.run_id;
    const done = await waitFor(
      async () =>
        ((await (await server.request(`/api/v1/runs/${runId}`)).json()) as { data: Record<string, unknown> })
          .data,
      (run) => ['completed', 'failed'].includes(run.status as string),
      90_000,
    );
    expect(done.error).toBeNull();
    expect(done.status).toBe('completed');
  });

  it('an input over the limit is refused with 413 naming the limit, and nothing is stored', async () => {
    const server = await startTestServer({ maxFileBytes: 64 * 1024 });
    servers.push(server);
    const response = await server.request('/api/v1/runs?workflow_id=invert-image', {
      method: 'POST',
      body: formOf({ image_1: new Blob([new Uint8Array(100 * 1024)], { type: 'image/png' }) }),
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { errors: string }).errors).toContain('65536 bytes');
    expect(await server.storedInputs()).toEqual([]);
  });
});
