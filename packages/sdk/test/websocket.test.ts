import { afterEach, describe, expect, it } from 'vitest';
import WS from 'ws';
import type { FlowscaleAPI, WebSocketConstructor, WebSocketMessage } from '../src/index';
import { WebSocket as NodeWebSocket } from '../src/node/index';
import { clientFor, recordDelays } from './support/client';
import { type ContractServer, startContractServer } from './support/contract-server';

let server: ContractServer | undefined;
let api: FlowscaleAPI | undefined;
afterEach(async () => {
  api?.disconnectWebSocket();
  await server?.close();
  server = undefined;
});

const until = async (check: () => boolean, what: string, ms = 5000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('WebSocket', () => {
  it('connects with the X-API-KEY header through the flowscale/node adapter and receives run updates', async () => {
    server = await startContractServer();
    api = clientFor(server, { webSocketImpl: NodeWebSocket });
    const messages: WebSocketMessage[] = [];
    let opened = 0;
    expect(api.sendWebSocketMessage({ type: 'client_event' })).toBe(false);
    const disconnect = api.connectWebSocket({ onOpen: () => opened++, onMessage: (m) => messages.push(m) });
    await until(() => api!.isWebSocketConnected(), 'open');
    expect(opened).toBe(1);
    expect(server.wsConnections[0]?.headers['x-api-key']).toBe(server.apiKey);
    expect(server.wsConnections[0]?.headers['sec-websocket-protocol']).toBeUndefined();
    const { data } = await api.executeWorkflow('text-echo', { default_value_1: 'ws' });
    const sent = api.sendWebSocketMessage({
      type: 'client_event',
      data: { action: 'subscribe', runId: data.run_id },
    });
    expect(sent).toBe(true);
    await until(
      () => messages.some((m) => (m.data as { status?: string })?.status === 'completed'),
      'completed update',
    );
    expect(messages[0]).toMatchObject({ type: 'run_status_update', data: { run_id: data.run_id } });
    await until(() => server!.wsMessages.length === 1, 'server got message');
    expect(server.wsMessages[0]).toEqual({
      type: 'client_event',
      data: { action: 'subscribe', runId: data.run_id },
    });
    disconnect();
    await until(() => !api!.isWebSocketConnected(), 'closed');
    expect(api.sendWebSocketMessage({ type: 'x' })).toBe(false);
  });

  it('a browser-style WebSocket (no headers) sends the key as the flowscale.key.<key> subprotocol', async () => {
    server = await startContractServer();
    api = clientFor(server, { webSocketImpl: WS as unknown as WebSocketConstructor });
    api.connectWebSocket();
    await until(() => api!.isWebSocketConnected(), 'open');
    const connection = server.wsConnections[0]!;
    expect(connection.headers['x-api-key']).toBeUndefined();
    const offered = String(connection.headers['sec-websocket-protocol'])
      .split(',')
      .map((p) => p.trim());
    expect(offered).toEqual(['flowscale', `flowscale.key.${server.apiKey}`]);
    expect(connection.protocol).toBe('flowscale');
  });

  it('reconnects after drops with exponential backoff up to a ceiling, then gives up after maxReconnectAttempts', async () => {
    server = await startContractServer();
    const recorder = recordDelays(1);
    try {
      api = clientFor(server, { webSocketImpl: NodeWebSocket });
      let opens = 0;
      let closes = 0;
      let errors = 0;
      api.connectWebSocket({
        onOpen: () => opens++,
        onClose: () => closes++,
        onError: () => errors++,
        reconnectInterval: 1000,
        maxReconnectAttempts: 7,
      });
      await until(() => opens === 1, 'first open');
      server.dropWebSockets();
      await until(() => opens === 2, 'reconnect');
      expect(recorder.delays).toEqual([1000]);
      // A successful open resets the attempt counter; now make every reconnect fail with 401.
      server.options.rejectWebSockets = true;
      server.dropWebSockets();
      // The server now rejects the handshake, so attempts pile up: 1s, 2s, 4s ... capped at 30 s.
      await until(() => recorder.delays.length === 8, 'all reconnect attempts');
      await new Promise((r) => setTimeout(r, 50));
      expect(recorder.delays).toEqual([1000, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
      expect(closes).toBeGreaterThanOrEqual(8);
      // Each refused handshake is reported to onError.
      expect(errors).toBeGreaterThanOrEqual(7);
      expect(api.isWebSocketConnected()).toBe(false);
    } finally {
      recorder.restore();
    }
  });

  it('re-sends active subscriptions after a reconnect (not the ones unsubscribed)', async () => {
    server = await startContractServer();
    const recorder = recordDelays(1);
    try {
      api = clientFor(server, { webSocketImpl: NodeWebSocket });
      let opens = 0;
      api.connectWebSocket({ onOpen: () => opens++ });
      await until(() => opens === 1, 'first open');
      const event = (action: string, runId: string) => ({ type: 'client_event', data: { action, runId } });
      api.sendWebSocketMessage(event('subscribe', 'run-a'));
      api.sendWebSocketMessage(JSON.stringify(event('subscribe', 'run-b')));
      api.sendWebSocketMessage(event('subscribe', 'run-c'));
      api.sendWebSocketMessage(event('unsubscribe', 'run-b'));
      await until(() => server!.wsMessages.length === 4, 'messages before the drop');
      server.dropWebSockets();
      await until(() => opens === 2, 'reconnect');
      await until(() => server!.wsMessages.length === 6, 're-sent subscriptions');
      expect(server.wsConnections).toHaveLength(2);
      expect(server.wsMessages.slice(4)).toEqual([event('subscribe', 'run-a'), event('subscribe', 'run-c')]);
    } finally {
      recorder.restore();
    }
  });

  it('disconnectWebSocket stops reconnection; reconnect: false never reconnects', async () => {
    server = await startContractServer();
    const recorder = recordDelays(1);
    try {
      api = clientFor(server, { webSocketImpl: NodeWebSocket });
      let opens = 0;
      api.connectWebSocket({ onOpen: () => opens++, reconnect: false });
      await until(() => opens === 1, 'open');
      server.dropWebSockets();
      await until(() => !api!.isWebSocketConnected(), 'dropped');
      await new Promise((r) => setTimeout(r, 50));
      expect(opens).toBe(1);
      expect(recorder.delays).toEqual([]);

      api.connectWebSocket({ onOpen: () => opens++ });
      await until(() => opens === 2, 'second open');
      api.disconnectWebSocket();
      await new Promise((r) => setTimeout(r, 50));
      expect(opens).toBe(2);
      expect(recorder.delays).toEqual([]);
    } finally {
      recorder.restore();
    }
  });
});
