import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer, waitFor } from '../support/harness';

vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 });

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const metrics = async (): Promise<string> => (await server.request('/metrics')).text();

describe('/metrics', () => {
  it('has process and runtime metrics, and run, queue, backend and HTTP histograms', async () => {
    await server.api.executeWorkflowAsync('text-echo', {}, undefined, 100);
    await server.api.executeWorkflowAsync('solid-color', { default_value_1: 4 }, undefined, 100);
    // The histograms are fed from the run's events after they are written: wait for the last one.
    // Labelled by workflow id (stable, bounded), not by name.
    const count = (name: string, body: string): number =>
      body.match(new RegExp(`^${name}_count\\{workflow="[0-9a-f-]{36}"(,status="completed")?\\} 1$`, 'gm'))
        ?.length ?? 0;
    const text = await waitFor(metrics, (body) => count('flowscale_backend_execution_seconds', body) === 2);
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_gc_duration_seconds_bucket',
    ])
      expect(text).toContain(name);
    expect(count('flowscale_run_duration_seconds', text)).toBe(2);
    expect(count('flowscale_run_queue_wait_seconds', text)).toBe(2);
    expect(text).toMatch(
      /flowscale_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/runs",status_code="201"\} 2/,
    );
  });
});
