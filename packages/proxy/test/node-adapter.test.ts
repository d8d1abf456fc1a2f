import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { toNodeHandler } from '../src/index';

async function serve(handler: Parameters<typeof toNodeHandler>[0]) {
  const server = http.createServer(toNodeHandler(handler));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

/** A never-ending body (like an event stream) that reports when it is cancelled. */
function endlessBody() {
  let cancelled!: () => void;
  let done = false;
  const wasCancelled = new Promise<void>((resolve) => {
    cancelled = resolve;
  });
  const body = new ReadableStream<Uint8Array>({
    pull: (controller) =>
      new Promise((resolve) =>
        setTimeout(() => {
          if (!done) controller.enqueue(new TextEncoder().encode(': ping\n\n'));
          resolve();
        }, 20),
      ),
    cancel: () => {
      done = true;
      cancelled();
    },
  });
  return { body, wasCancelled };
}

describe('toNodeHandler', () => {
  it('cancels a streaming body when the client leaves mid-stream', async () => {
    const { body, wasCancelled } = endlessBody();
    const { server, port } = await serve(async () => new Response(body));
    const req = http.get({ port, path: '/' }, (res) => res.once('data', () => req.destroy()));
    req.on('error', () => {});
    await wasCancelled;
    server.close();
  });

  it('cancels the body when the client left before the response was ready', async () => {
    const { body, wasCancelled } = endlessBody();
    let signalAborted = false;
    const { server, port } = await serve(async (request) => {
      // Wait until the client has gone, as a slow upstream would make us do.
      await new Promise((resolve) => request.signal.addEventListener('abort', resolve, { once: true }));
      signalAborted = true;
      return new Response(body);
    });
    const req = http.get({ port, path: '/' });
    req.on('error', () => {});
    setTimeout(() => req.destroy(), 50);
    await wasCancelled;
    expect(signalAborted).toBe(true);
    server.close();
  });
});
