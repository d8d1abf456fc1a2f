import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlowscaleAPI, type WebSocketMessage } from '../src/index';
import { loadWs } from '../src/realtime/node-socket';
import { type RealServer, startRealServer, until } from './support/real-server';

// connectWebSocket() called as the seed documents call it: no webSocketImpl. Node 20 has no global
// WebSocket, so the SDK must load `ws` itself; the run's updates then arrive from the real server.
let server: RealServer;
beforeAll(async () => {
  server = await startRealServer();
});
afterAll(() => server.close());

describe('connectWebSocket on Node without webSocketImpl', () => {
  it('connects through ws, loaded lazily, and receives a run’s messages', async () => {
    const hadGlobal = 'WebSocket' in globalThis;
    const saved = (globalThis as { WebSocket?: unknown }).WebSocket;
    // Node 22 has a global WebSocket; hide it so the ws path is what is tested on every version.
    delete (globalThis as { WebSocket?: unknown }).WebSocket;
    const api = new FlowscaleAPI({ apiKey: server.key, baseUrl: server.url, enableLogging: false });
    const messages: WebSocketMessage[] = [];
    const errors: unknown[] = [];
    try {
      api.connectWebSocket({ onMessage: (m) => messages.push(m), onError: (e) => errors.push(e) });
      await until(() => api.isWebSocketConnected() || errors.length > 0, 'the socket to open');
      expect(errors).toEqual([]);
      const { data } = await api.executeWorkflow('text-echo', { default_value_1: 'bare ws' });
      api.sendWebSocketMessage({ type: 'client_event', data: { action: 'subscribe', runId: data.run_id } });
      await until(() => messages.some((m) => JSON.stringify(m).includes(data.run_id)), 'a run message');
    } finally {
      api.disconnectWebSocket();
      if (hadGlobal) (globalThis as { WebSocket?: unknown }).WebSocket = saved;
    }
  });

  it('says what to install when ws cannot be loaded', async () => {
    await expect(loadWs('ws-that-is-not-installed')).rejects.toMatchObject({
      code: 'no_websocket',
      message: expect.stringContaining('npm install ws'),
    });
  });
});
