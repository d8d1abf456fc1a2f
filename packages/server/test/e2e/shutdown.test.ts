import { once } from 'node:events';
import net from 'node:net';
import { startServer } from '@flowscale/server';
import { expect, it } from 'vitest';
import { tempDir } from '../support/harness';

it('close() ends a request whose client stalled mid-upload once the grace period is over', async () => {
  const server = await startServer({
    port: 0,
    dataDir: tempDir('shutdown'),
    apiKeys: ['k'],
    shutdownGraceMs: 200,
    logLevel: 'silent',
  });
  const { port } = new URL(server.url);
  const socket = net.connect(Number(port), '127.0.0.1');
  await once(socket, 'connect');
  socket.write(
    [
      'POST /api/v1/runs?workflow_id=text-echo HTTP/1.1',
      `Host: 127.0.0.1:${port}`,
      'X-API-KEY: k',
      'Content-Type: multipart/form-data; boundary=b',
      'Content-Length: 100000',
      '',
      '--b\r\nContent-Disposition: form-data; name="default_value_1"\r\n\r\nhal',
    ].join('\r\n'),
  );
  const socketClosed = once(socket, 'close');
  // The body never completes: without the grace period, close() would wait for Node's request timeout.
  await new Promise((resolve) => setTimeout(resolve, 100));
  await server.close();
  await socketClosed;
  expect(socket.destroyed).toBe(true);
}, 20_000);
