import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../support/harness';

// A collector that accepts the export and never answers, with an exporter timeout longer than this test's:
// only the server's own bound on the last flush lets it close.
const OTEL_ENV = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_EXPORTER_OTLP_TIMEOUT'];
let silent: Server;
let exports = 0;

beforeAll(async () => {
  silent = createServer(() => {
    exports++;
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json';
  process.env.OTEL_EXPORTER_OTLP_TIMEOUT = '120000';
});

afterAll(async () => {
  silent.closeAllConnections();
  await new Promise((resolve) => silent.close(resolve));
  for (const name of OTEL_ENV) delete process.env[name];
});

describe('traces with a collector that never answers', () => {
  it('the server still closes: the last flush is bounded', async () => {
    const server = await startTestServer();
    const response = await server.request('/api/v1/comfy/health');
    expect(response.status).toBe(200);
    await server.close();
    // The request's span was sent (and never answered).
    expect(exports).toBeGreaterThan(0);
  }, 20_000);
});
