import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { backoffDelay, MAX_BACKOFF_MS, MAX_RETRY_AFTER_MS, parseRetryAfter } from '../src/core/retry';
import { FlowScaleError, NetworkError } from '../src/index';
import { clientFor, recordDelays } from './support/client';
import { type ContractServer, startContractServer } from './support/contract-server';

let server: ContractServer;
let recorder: ReturnType<typeof recordDelays>;
beforeAll(async () => {
  server = await startContractServer();
});
afterAll(() => server.close());
afterEach(() => {
  recorder?.restore();
  server.faults.length = 0;
});

describe('retry timing (pure)', () => {
  it('parses Retry-After seconds and HTTP dates, capped', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('0.5', now)).toBe(500);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:07 GMT', now)).toBe(7000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('86400', now)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('backs off exponentially with jitter between half and all of the step, up to a ceiling', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, 1000, 0))).toEqual([500, 1000, 2000, 4000]);
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, 1000, 1))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffDelay(20, 1000, 1)).toBe(MAX_BACKOFF_MS);
    const samples = new Set(Array.from({ length: 20 }, () => backoffDelay(2, 1000)));
    expect(samples.size).toBeGreaterThan(1);
  });
});

describe('retries over the wire', () => {
  it('honours Retry-After (seconds) on 503 and then succeeds', async () => {
    recorder = recordDelays();
    server.inject({ path: '/api/v1/comfy/health', status: 503, headers: { 'Retry-After': '2' }, times: 2 });
    const api = clientFor(server, { retries: 3, retryDelay: 100 });
    const before = server.requestsTo('/api/v1/comfy/health').length;
    expect((await api.checkHealth()).status).toBe('success');
    expect(server.requestsTo('/api/v1/comfy/health').length - before).toBe(3);
    expect(recorder.delays).toEqual([2000, 2000]);
  });

  it('honours Retry-After as an HTTP date on 429', async () => {
    recorder = recordDelays();
    const date = new Date(Date.now() + 5000).toUTCString();
    server.inject({ path: '/api/v1/comfy/queue', status: 429, headers: { 'Retry-After': date } });
    await clientFor(server).getQueue();
    expect(recorder.delays).toHaveLength(1);
    expect(recorder.delays[0]).toBeGreaterThan(3000);
    expect(recorder.delays[0]).toBeLessThanOrEqual(5000);
  });

  it('without Retry-After, backs off exponentially with jitter; gives up after `retries`', async () => {
    recorder = recordDelays();
    server.inject({ path: '/api/v1/comfy/workflows', status: 500, times: 10 });
    const error = await clientFor(server, { retries: 3, retryDelay: 1000 })
      .getWorkflows()
      .catch((e) => e);
    expect(error).toBeInstanceOf(FlowScaleError);
    expect(error.status).toBe(500);
    expect(recorder.delays).toHaveLength(3);
    recorder.delays.forEach((delay, i) => {
      expect(delay).toBeGreaterThanOrEqual(500 * 2 ** i);
      expect(delay).toBeLessThanOrEqual(1000 * 2 ** i);
    });
  });

  it('retries network errors (socket destroyed) and 408/502/504', async () => {
    recorder = recordDelays();
    server.inject({ path: '/api/v1/comfy/health', destroy: true });
    server.inject({ path: '/api/v1/comfy/health', status: 408 });
    server.inject({ path: '/api/v1/comfy/health', status: 502 });
    server.inject({ path: '/api/v1/comfy/health', status: 504 });
    const api = clientFor(server, { retries: 4 });
    expect((await api.checkHealth()).status).toBe('success');
    expect(recorder.delays).toHaveLength(4);
  });

  it('a network error that outlasts the retries is a NetworkError', async () => {
    recorder = recordDelays();
    server.inject({ path: '/api/v1/comfy/health', destroy: true, times: 3 });
    const error = await clientFor(server, { retries: 2 })
      .checkHealth()
      .catch((e) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.code).toBe('network_error');
  });

  it('does not retry other 4xx', async () => {
    recorder = recordDelays();
    server.inject({ path: '/api/v1/comfy/health', status: 403 });
    await expect(clientFor(server).checkHealth()).rejects.toMatchObject({ status: 403 });
    expect(recorder.delays).toEqual([]);
  });

  it('reuses one Idempotency-Key on every retry of the run-creating POST; only one run exists', async () => {
    recorder = recordDelays();
    server.inject({
      method: 'POST',
      path: '/api/v1/runs',
      status: 503,
      headers: { 'Retry-After': '1' },
      times: 2,
    });
    const api = clientFor(server);
    const before = server.runs.size;
    const started = await api.executeWorkflow('text-echo', { default_value_1: 'once' });
    const posts = server
      .requestsTo('/api/v1/runs')
      .filter((r) => r.method === 'POST')
      .slice(-3);
    const keys = posts.map((r) => r.headers['idempotency-key']);
    expect(keys[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(keys).size).toBe(1);
    expect(server.runs.size - before).toBe(1);
    expect(recorder.delays).toEqual([1000, 1000]);
    // Each executeWorkflow call gets its own key.
    await api.executeWorkflow('text-echo', { default_value_1: 'twice' });
    const next = server
      .requestsTo('/api/v1/runs')
      .filter((r) => r.method === 'POST')
      .at(-1)!;
    expect(next.headers['idempotency-key']).not.toBe(keys[0]);
    expect(started.data.run_id).toBeTruthy();
  });

  it('a lost response is retried with the same key and the server returns the same run', async () => {
    recorder = recordDelays();
    const api = clientFor(server);
    // The server creates the run, but the client sees a 502 (as if a proxy lost the answer).
    const key = 'fixed-key-for-this-test';
    const first = await api.executeWorkflow('text-echo', { default_value_1: 'same' }, undefined, {
      idempotencyKey: key,
    });
    server.inject({ method: 'POST', path: '/api/v1/runs', status: 502 });
    const second = await api.executeWorkflow('text-echo', { default_value_1: 'same' }, undefined, {
      idempotencyKey: key,
    });
    expect(second.data.run_id).toBe(first.data.run_id);
  });

  it('never retries a POST without an idempotency key on 5xx (cancelRun), but does on 429', async () => {
    recorder = recordDelays();
    const api = clientFor(server);
    const { data } = await api.executeWorkflow('hang', {});
    server.inject({ method: 'POST', path: `/api/v1/runs/${data.run_id}/cancel`, status: 500 });
    await expect(api.cancelRun(data.run_id)).rejects.toMatchObject({ status: 500 });
    expect(recorder.delays).toEqual([]);
    server.inject({
      method: 'POST',
      path: `/api/v1/runs/${data.run_id}/cancel`,
      status: 429,
      headers: { 'Retry-After': '1' },
    });
    expect((await api.cancelRun(data.run_id)).data).toBe('Run cancelled successfully');
    expect(recorder.delays).toEqual([1000]);
  });

  it('does not retry a request whose body was a one-shot stream', async () => {
    recorder = recordDelays();
    server.inject({ method: 'POST', path: '/api/v1/runs', status: 503 });
    const api = clientFor(server);
    await expect(api.executeWorkflow('text-echo', { file_1: Readable.from(['x']) })).rejects.toMatchObject({
      status: 503,
    });
    expect(recorder.delays).toEqual([]);
  });
});
