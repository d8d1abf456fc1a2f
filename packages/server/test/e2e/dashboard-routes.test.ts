import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, tempDir, waitFor } from '../support/harness';

// The routes the dashboard relies on: its static files with their CSP, the runs filter, input files.
let server: TestServer;
let dashboardDir: string;

beforeAll(async () => {
  dashboardDir = tempDir('dashboard-build');
  server = await startTestServer({ dashboardDir });
}, 60_000);
afterAll(() => server?.close());

const list = async (query: string) => {
  const response = await server.request(`/api/v1/runs?page_size=100&${query}`);
  return {
    status: response.status,
    body: (await response.json()) as { data: { runs: Array<{ _id: string }> }; errors?: string },
  };
};

/** The request counts /metrics holds for the dashboard's routes, by their labels. */
async function dashboardCounts(): Promise<Map<string, number>> {
  const metrics = await (await server.request('/metrics')).text();
  const counts = new Map<string, number>();
  for (const line of metrics.split('\n')) {
    const match = /^flowscale_http_request_duration_seconds_count\{(.*route="\/dashboard\/.*)\} (\d+)$/.exec(
      line,
    );
    if (match) counts.set(match[1] as string, Number(match[2]));
  }
  return counts;
}

describe('dashboard routes', () => {
  it('answers 503 with the build command until the dashboard is built, then serves it with a strict CSP', async () => {
    const missing = await fetch(`${server.url}/dashboard/`);
    expect(missing.status).toBe(503);
    expect(await missing.text()).toContain('npm run build -w @flowscale/dashboard');
    const redirect = await fetch(`${server.url}/dashboard`, { redirect: 'manual' });
    expect(redirect.headers.get('location')).toBe('dashboard/');

    fs.mkdirSync(path.join(dashboardDir, 'assets'));
    fs.writeFileSync(
      path.join(dashboardDir, 'index.html'),
      '<!doctype html><script type="module" src="./assets/a-1.js"></script>',
    );
    fs.writeFileSync(path.join(dashboardDir, 'assets', 'a-1.js'), 'console.log(1)');
    const page = await fetch(`${server.url}/dashboard/`);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-(inline|eval)/);
    const asset = await fetch(`${server.url}/dashboard/assets/a-1.js`);
    expect(asset.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    for (const bad of ['..%2F..%2Fpackage.json', '.hidden', 'nope.js']) {
      expect((await fetch(`${server.url}/dashboard/assets/${bad}`)).status).toBe(404);
    }
    expect(await (await fetch(`${server.url}/`)).text()).toContain('href="dashboard/"');
  });

  it('a served file is counted as served: no late 503 or 404 set after the response', async () => {
    // Regression: the route awaited the (thenable) reply, read it as "not sent" once the response had
    // finished, and set its fallback status afterwards; /metrics sometimes counted that instead of 200.
    const before = await dashboardCounts();
    for (let i = 0; i < 60; i++) {
      for (const method of ['HEAD', 'GET']) {
        for (const file of ['', 'assets/a-1.js']) {
          const response = await fetch(`${server.url}/dashboard/${file}`, { method });
          await response.arrayBuffer();
          expect(response.status).toBe(200);
        }
      }
    }
    const added = async () =>
      [...(await dashboardCounts())]
        .flatMap(([labels, count]) =>
          count === (before.get(labels) ?? 0) ? [] : [`${labels} +${count - (before.get(labels) ?? 0)}`],
        )
        .sort();
    const expected = [
      'method="GET",route="/dashboard/",status_code="200" +60',
      'method="GET",route="/dashboard/assets/:file",status_code="200" +60',
      'method="HEAD",route="/dashboard/",status_code="200" +60',
      'method="HEAD",route="/dashboard/assets/:file",status_code="200" +60',
    ];
    // The last response is counted in its onResponse hook, which can run just after the client has read
    // it: wait for the counts to arrive, then make sure nothing late changes them.
    await waitFor(added, (now) => JSON.stringify(now) === JSON.stringify(expected), 5000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await added()).toEqual(expected);
  });

  it('filters runs by status, workflow (id or name) and creation time, and refuses bad filters', async () => {
    const echo = await server.api.executeWorkflowAsync('text-echo', { default_value_1: 'a' }, 'g1', 100);
    expect(echo.status).toBe('success');
    const before = new Date().toISOString();
    const color = (await server.api.executeWorkflow('solid-color', { default_value_1: 4 })).data.run_id;
    await server.api.cancelRun(color).catch(() => undefined);

    const byName = await list('workflow_id=solid-color');
    expect(byName.body.data.runs.map((r) => r._id)).toEqual([color]);
    const echoId = (await server.api.getWorkflow('text-echo')).data.id;
    expect((await list(`workflow_id=${echoId}&status=completed`)).body.data.runs).toHaveLength(1);
    expect(
      (await list(`created_after=${encodeURIComponent(before)}`)).body.data.runs.map((r) => r._id),
    ).toEqual([color]);
    expect((await list(`created_before=${encodeURIComponent(before)}`)).body.data.runs).toHaveLength(1);
    expect((await list('status=queued,running,completed,failed,cancelled')).body.data.runs).toHaveLength(2);
    expect((await list('status=nope')).status).toBe(400);
    const badDate = await list('created_after=yesterday-ish');
    expect(badDate.status).toBe(400);
    expect(badDate.body.errors).toContain('created_after');
  });

  it("returns a run's uploaded input file, sandboxed, and 404s for inputs that are not files", async () => {
    const png = await sharp({ create: { width: 3, height: 2, channels: 3, background: '#c03' } })
      .png()
      .toBuffer();
    const upload = new Blob([new Uint8Array(png)], { type: 'image/png' });
    const run = (await server.api.executeWorkflow('invert-image', { image_1: upload })).data.run_id;
    const response = await server.request(`/api/v1/runs/${run}/inputs/image_1`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('content-security-policy')).toContain('sandbox');
    expect(Buffer.from(await response.arrayBuffer()).equals(png)).toBe(true);
    expect((await server.request(`/api/v1/runs/${run}/inputs/image_1`, { key: null })).status).toBe(401);
    expect((await server.request(`/api/v1/runs/${run}/inputs/nope`)).status).toBe(404);
    expect((await server.request('/api/v1/runs/no-such-run/inputs/image_1')).status).toBe(404);
  });
});
