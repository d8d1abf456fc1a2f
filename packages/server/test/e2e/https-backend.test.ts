import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, startTestServer, type TestServer, waitFor } from '../support/harness';
import { solidPng } from '../support/png';
import { type SelfSignedCert, selfSignedCert, startTlsRelay, type TlsRelay } from '../support/tls-relay';

// An `https://` backend is spoken to over TLS for every request (prompt, upload, view, inventory) and its
// WebSocket: the only way to it here is a TLS-terminating relay in front of the real engine.
let engine: Awaited<ReturnType<typeof startTestEngine>>;
let cert: SelfSignedCert;
let relay: TlsRelay;
const servers: TestServer[] = [];

beforeAll(async () => {
  engine = await startTestEngine();
  cert = selfSignedCert();
  relay = await startTlsRelay(engine.port, cert);
});
afterAll(async () => {
  for (const server of servers) await server.close();
  await relay?.close();
  await engine?.close();
  cert?.cleanup();
});

async function serverFor(options: { comfyuiCaFile?: string; comfyuiTlsInsecure?: boolean }) {
  const server = await startTestServer({
    comfyuiUrls: [relay.url],
    inventoryStartupWaitMs: 2000,
    ...options,
  });
  servers.push(server);
  return server;
}

const png = (): Blob => new Blob([new Uint8Array(solidPng(3, 2, [200, 10, 10]))], { type: 'image/png' });

describe('a backend behind https', () => {
  it('with its CA file: uploads, runs and fetches outputs over TLS', async () => {
    const server = await serverFor({ comfyuiCaFile: cert.certFile });
    await waitFor(
      async () => (await server.api.checkHealth()).data[0]?.status,
      (status) => status === 'idle',
    );
    const health = (await server.api.checkHealth()).data[0] as unknown as Record<string, unknown>;
    expect(health.node_count).toEqual(expect.any(Number));
    const before = relay.handshakes;
    const result = await server.api.executeWorkflowAsync('invert-image', { image_1: png() }, undefined, 100);
    expect(result.data[0]?.filename).toMatch(/\.png$/);
    expect(relay.handshakes).toBeGreaterThan(before);
  });

  it('without the CA the certificate is refused (verification is on by default)', async () => {
    const server = await serverFor({});
    const fleet = (await (await server.request('/api/v1/admin/fleet?refresh=true')).json()).data;
    expect(fleet[0].error.message).toMatch(/self.signed|certificate/i);
    expect(fleet[0].read_at).toBeNull();
    expect((await server.api.checkHealth()).data[0]?.status).toBe('unreachable');
  });

  it('with verification turned off, a self-signed backend works', async () => {
    const server = await serverFor({ comfyuiTlsInsecure: true });
    const result = await server.api.executeWorkflowAsync(
      'text-echo',
      { default_value_1: 'tls' },
      undefined,
      100,
    );
    expect(result.data[0]?.file_content).toBe('tls from FlowScale');
  });
});
