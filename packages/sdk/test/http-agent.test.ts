import { Agent } from 'node:https';
import { describe, expect, it } from 'vitest';
import { FlowscaleAPI } from '../src/index';
import { captureConsole } from './support/client';

// The seed documents pass `httpAgent: new https.Agent({ keepAlive: true })`; Node's native fetch cannot use
// an http.Agent, so the SDK says so, once per process, with what to do instead.
describe('httpAgent with the native fetch', () => {
  it('warns once that an http.Agent has no effect, naming the alternatives', () => {
    const out = captureConsole();
    try {
      const options = { apiKey: 'k', baseUrl: 'http://127.0.0.1:9', logLevel: 'warn' as const };
      new FlowscaleAPI({ ...options, httpAgent: new Agent({ keepAlive: true }) });
      new FlowscaleAPI({ ...options, httpAgent: new Agent({ keepAlive: true }) });
      // An undici dispatcher (anything with dispatch()) is used as is; a fetchImpl may take an agent.
      new FlowscaleAPI({ ...options, httpAgent: { dispatch: () => true } });
      new FlowscaleAPI({ ...options, httpAgent: new Agent(), fetchImpl: fetch });
    } finally {
      out.restore();
    }
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).toMatch(/WARN.*httpAgent has no effect with the native fetch/);
    expect(out.lines[0]).toContain('undici');
    expect(out.lines[0]).toContain('fetchImpl');
  });
});
