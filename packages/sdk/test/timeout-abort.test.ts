import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FlowScaleError, TimeoutError } from '../src/index';
import { clientFor, recordDelays } from './support/client';
import { type ContractServer, startContractServer } from './support/contract-server';

let server: ContractServer;
beforeAll(async () => {
  server = await startContractServer();
});
afterAll(() => server.close());
afterEach(() => {
  server.faults.length = 0;
});

describe('timeouts and abort signals', () => {
  it('the client timeout turns a slow answer into a TimeoutError ("timed out"), retried like a network error', async () => {
    const recorder = recordDelays();
    try {
      server.inject({ path: '/api/v1/comfy/health', delayMs: 2000, times: 2 });
      const error = await clientFor(server, { timeout: 100, retries: 1 })
        .checkHealth()
        .catch((e) => e);
      expect(error).toBeInstanceOf(TimeoutError);
      expect(error).toBeInstanceOf(FlowScaleError);
      expect(error.message).toBe('Request timed out after 100ms');
      expect(recorder.delays).toHaveLength(1);
    } finally {
      recorder.restore();
    }
  });

  it('gives fetch a signal only when something can abort the request (timeout 0 and no signal: none)', async () => {
    const signals: Array<AbortSignal | null | undefined> = [];
    // The real fetch over the real socket; the wrapper only notes what the SDK handed it.
    const fetchImpl = (input: string, init?: RequestInit) => {
      signals.push(init?.signal);
      return fetch(input, init);
    };
    const untimed = clientFor(server, { timeout: 0, fetchImpl });
    expect((await untimed.checkHealth()).status).toBe('success');
    await untimed.checkHealth({ signal: new AbortController().signal });
    await untimed.checkHealth({ timeout: 5000 });
    await clientFor(server, { fetchImpl }).checkHealth();
    expect(signals.map((signal) => signal instanceof AbortSignal)).toEqual([false, true, true, true]);
  });

  it('a per-call timeout overrides the client timeout', async () => {
    server.inject({ path: '/api/v1/comfy/queue', delayMs: 2000 });
    const api = clientFor(server, { timeout: 60_000, retries: 0 });
    const error = await api.getQueue({ timeout: 80 }).catch((e) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.message).toContain('timed out after 80ms');
  });

  it('a slow answer within the timeout succeeds', async () => {
    server.inject({ path: '/api/v1/comfy/queue', delayMs: 50 });
    expect((await clientFor(server, { timeout: 5000 }).getQueue()).status).toBe('success');
  });

  it('an AbortSignal cancels the call with its reason and is never retried', async () => {
    server.inject({ path: '/api/v1/comfy/workflows', delayMs: 2000 });
    const recorder = recordDelays();
    try {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      const error = await clientFor(server, { retries: 3 })
        .getWorkflows({ signal: controller.signal })
        .catch((e) => e);
      expect(error).toBeInstanceOf(DOMException);
      expect(error.name).toBe('AbortError');
      expect(recorder.delays).toEqual([]);
    } finally {
      recorder.restore();
    }
  });

  it('an already aborted signal rejects at once; abort also interrupts a retry wait', async () => {
    const api = clientFor(server, { retries: 3, retryDelay: 60_000 });
    const reason = new Error('stop');
    await expect(api.getRun('x', { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    server.inject({ path: '/api/v1/comfy/health', status: 503 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(reason), 50);
    await expect(api.checkHealth({ signal: controller.signal })).rejects.toBe(reason);
  });

  it('every method takes the trailing request options (headers per call)', async () => {
    const api = clientFor(server);
    const opts = { headers: { 'X-Trace': 't1' } };
    const { data } = await api.executeWorkflow('text-echo', { default_value_1: 'o' }, undefined, opts);
    await api.getRun(data.run_id, opts);
    await api.getRuns(undefined, {}, opts);
    await api.getOutput(data.run_id, opts).catch(() => null);
    await api.getWorkflows(opts);
    await api.getWorkflow('text-echo', opts);
    await api.checkHealth(opts);
    await api.getQueue(opts);
    await api.listApiKeys(opts);
    await api.cancelRun(data.run_id, opts).catch(() => null);
    const traced = server.requests.filter((r) => r.headers['x-trace'] === 't1');
    expect(traced).toHaveLength(10);
  });
});
