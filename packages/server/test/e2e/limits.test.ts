import { FlowscaleAPI } from 'flowscale';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formOf, startTestServer, type TestServer, waitFor } from '../support/harness';

// Real engine on a shared 2-core box: generous limits, only to stop hangs.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const OTHER_KEY = 'second-admin-key-0123456789';
let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/**
 * An SDK client that retries 429s, with a base backoff so long (≥ 30 s with jitter) that finishing within
 * the test timeout proves it waited for the server's Retry-After instead.
 */
const retryingClient = (url: string, key: string): FlowscaleAPI =>
  new FlowscaleAPI({ apiKey: key, baseUrl: url, enableLogging: false, retries: 3, retryDelay: 60_000 });

describe('per-key rate limit', () => {
  it('answers 429 RATE_LIMITED with Retry-After once a key spends its burst; other keys and public routes are unaffected', async () => {
    // Per minute, so a slow shared machine cannot refill a token between the requests below.
    const own = await startTestServer({
      rateLimit: '3/min',
      apiKeys: ['test-admin-key-0123456789', OTHER_KEY],
    });
    server = own;
    for (let index = 0; index < 3; index++)
      expect((await own.request('/api/v1/comfy/workflows')).status).toBe(200);
    const limited = await own.request('/api/v1/comfy/workflows');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^(19|20)$/); // one token every 20 s
    expect(await limited.json()).toEqual({
      status: 'error',
      errors: 'Rate limit of 3 requests per 60 s exceeded for this API key',
      code: 'RATE_LIMITED',
    });
    expect((await own.request('/api/v1/comfy/workflows', { key: OTHER_KEY })).status).toBe(200);
    expect((await own.request('/healthz', { key: null })).status).toBe(200);
    // A bad key is refused as unauthorized, not counted against anyone.
    expect((await own.request('/api/v1/comfy/workflows', { key: 'nope' })).status).toBe(401);
  });

  it('the SDK retries a 429 after Retry-After and then succeeds', async () => {
    // One token every 5 s: slow enough that the bucket is surely empty when the SDK call starts.
    const own = await startTestServer({ rateLimit: '12/min' });
    server = own;
    for (let index = 0; index < 12; index++)
      expect((await own.request('/api/v1/comfy/workflows')).status).toBe(200);
    const limited = await own.request('/api/v1/comfy/workflows');
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(5);
    const started = Date.now();
    const workflows = await retryingClient(own.url, own.key).getWorkflows();
    expect(workflows.status).toBe('success');
    // Refused at first (so it waited), and well under the ≥ 30 s its own backoff would have taken.
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('0 turns the limit off', async () => {
    const own = await startTestServer({ rateLimit: 0 });
    server = own;
    const statuses = await Promise.all(
      Array.from({ length: 50 }, async () => (await own.request('/api/v1/comfy/health')).status),
    );
    expect(new Set(statuses)).toEqual(new Set([200]));
  });
});

describe('queued-run cap', () => {
  it('refuses submissions beyond FLOWSCALE_MAX_QUEUED_RUNS with 429 QUEUE_FULL and creates no run; the SDK gets in once the queue drains', async () => {
    const own = await startTestServer({ maxQueuedRuns: 1 });
    server = own;
    const submit = (seconds: number) =>
      own.request('/api/v1/runs?workflow_id=slow-delay', {
        method: 'POST',
        body: formOf({ default_value_1: 'x', value_4: String(seconds) }),
      });
    const blocker = (await (await submit(2)).json()).data.run_id as string;
    await waitFor(
      async () => (await own.api.getRun(blocker)).data.status,
      (status) => status === 'running',
    );
    expect((await submit(0.1)).status).toBe(201); // waits behind the blocker: the one queued place
    const refused = await submit(0.1);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect(await refused.json()).toMatchObject({ status: 'error', code: 'QUEUE_FULL' });
    expect((await own.api.getRuns(undefined, { pageSize: 100 })).data.runs).toHaveLength(2);

    const started = Date.now();
    const accepted = await retryingClient(own.url, own.key).executeWorkflow('slow-delay', {
      default_value_1: 'later',
      value_4: 0.1,
    });
    expect(accepted.status).toBe('success');
    expect(Date.now() - started, 'refused first, admitted after Retry-After').toBeGreaterThanOrEqual(1900);
    expect((await own.api.getRuns(undefined, { pageSize: 100 })).data.runs).toHaveLength(3);
  });
});
