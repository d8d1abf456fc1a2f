import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket } from '../src/node/index';
import { captureConsole, clientFor, recordDelays } from './support/client';
import { type ContractServer, startContractServer } from './support/contract-server';

let server: ContractServer;
beforeAll(async () => {
  server = await startContractServer();
});
afterAll(() => server.close());

const LINE = /^\[Flowscale (DEBUG|INFO|WARN|ERROR)\] \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z: .+$/;

describe('logging', () => {
  it('defaults to enabled at info; setLoggingConfig/getLoggingConfig change it at runtime', async () => {
    const api = clientFor(server, { enableLogging: undefined });
    expect(api.getLoggingConfig()).toEqual({ enabled: true, level: 'info' });
    api.setLoggingConfig(true, 'debug');
    expect(api.getLoggingConfig()).toEqual({ enabled: true, level: 'debug' });
    const out = captureConsole();
    try {
      await api.checkHealth();
      api.setLoggingConfig(false);
      expect(api.getLoggingConfig()).toEqual({ enabled: false, level: 'debug' });
      await api.checkHealth();
    } finally {
      out.restore();
    }
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).toMatch(LINE);
    expect(out.lines[0]).toContain('[Flowscale DEBUG]');
    expect(out.lines[0]).toContain('GET /api/v1/comfy/health');
  });

  it('filters below the level', async () => {
    const api = clientFor(server, { enableLogging: true, logLevel: 'error' });
    const recorder = recordDelays();
    const out = captureConsole();
    try {
      server.inject({ path: '/api/v1/comfy/health', status: 503 });
      await api.checkHealth();
    } finally {
      out.restore();
      recorder.restore();
    }
    expect(out.lines).toEqual([]);
  });

  it('never prints the API key, even when the server echoes it back in an error', async () => {
    const secret = server.apiKey;
    const api = clientFor(server, { enableLogging: true, logLevel: 'debug', webSocketImpl: NodeWebSocket });
    const recorder = recordDelays();
    const out = captureConsole();
    let error: Error | undefined;
    try {
      server.inject({
        path: '/api/v1/comfy/queue',
        status: 500,
        body: { status: 'error', errors: `bad key ${secret}` },
        times: 5,
      });
      error = await api.getQueue().catch((e) => e);
      await api.executeWorkflowAsync('text-echo', { default_value_1: 'log' });
      api.connectWebSocket();
      await new Promise((r) => setTimeout(r, 100));
      api.disconnectWebSocket();
    } finally {
      out.restore();
      recorder.restore();
    }
    expect(out.lines.length).toBeGreaterThan(5);
    for (const line of out.lines) {
      expect(line).toMatch(LINE);
      expect(line).not.toContain(secret);
    }
    expect(out.lines.some((l) => l.includes('[redacted]'))).toBe(true);
    expect(out.lines.some((l) => l.includes('WebSocket connection established'))).toBe(true);
    expect(error?.message).toContain('bad key [redacted]');
    expect(error?.message).not.toContain(secret);
    expect(JSON.stringify(error)).not.toContain(secret);
  });
});
