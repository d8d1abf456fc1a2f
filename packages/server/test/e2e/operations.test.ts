import { afterAll, describe, expect, it, vi } from 'vitest';
import { children, spawnServer } from '../support/child-server';
import { sdkClient, tempDir, waitFor } from '../support/harness';

// Child processes and real engines on a shared 2-core box: generous limits, only to stop hangs.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 90_000 });

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

describe('operations', () => {
  it('generates and prints a key once, never logs keys or signatures, serves docs and metrics, shuts down on SIGTERM', async () => {
    const dataDir = tempDir('ops');
    const server = await spawnServer(dataDir, undefined, ['--log-level', 'debug']);
    const key = /\n\s+(fs_[A-Za-z0-9_-]{43})\n/.exec(server.output())?.[1];
    expect(key, 'the generated key is printed in a framed block').toBeTruthy();
    const api = sdkClient(server.url, key!);

    const result = await api.executeWorkflowAsync('solid-color', { default_value_1: 4 }, undefined, 100);
    const downloadUrl = result.data[0]!.download_url!;
    const signature = new URL(downloadUrl).searchParams.get('signature')!;
    expect((await fetch(downloadUrl)).status).toBe(200);
    const rejected = await fetch(`${server.url}/api/v1/comfy/health`, {
      headers: { 'x-api-key': `${key}x` },
    });
    expect(rejected.status).toBe(401);

    // /metrics needs an admin key (or the metrics token); the generated key is an admin key.
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    const metrics = await (await fetch(`${server.url}/metrics`, { headers: { 'x-api-key': key! } })).text();
    expect(metrics).toMatch(/flowscale_runs\{status="completed"\} 1/);
    expect(metrics).toContain('flowscale_backend_up{container="container #1"');
    expect(metrics).toContain('flowscale_queue_depth 0');
    expect(metrics).toContain('flowscale_http_request_duration_seconds_bucket');
    const openapi = await (await fetch(`${server.url}/openapi.json`)).json();
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/runs',
        '/api/v1/runs/{id}',
        '/api/v1/runs/output',
        '/api/v1/comfy/workflows',
      ]),
    );
    const docs = await fetch(`${server.url}/docs`, { redirect: 'follow' });
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');

    // Debug logging logged the requests, yet never the key nor the signature.
    await waitFor(
      async () => server.output(),
      (output) => output.includes('/api/v1/files/'),
    );
    expect(server.output().split(key!).length).toBe(2); // only the framed announcement
    expect(server.output()).not.toContain(signature);

    const exited = new Promise<number | null>((resolve) => server.child.once('exit', resolve));
    server.child.kill('SIGTERM');
    expect(await exited).toBe(0);

    // Second start on the same data dir: the stored key still works, no new key is printed.
    const again = await spawnServer(dataDir, undefined, ['--log-level', 'warn']);
    expect(again.output()).not.toMatch(/fs_[A-Za-z0-9_-]{43}/);
    expect((await sdkClient(again.url, key!).checkHealth()).status).toBe('success');
    again.child.kill('SIGTERM');
  });
});
