import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formOf, startTestServer, type TestServer, waitFor } from '../support/harness';

// Issue 12: every numeric query parameter has bounds; outside them the answer is a 400 naming it, never a
// 500 from a database that cannot hold the number (`?page=1e308` overflowed SQLite's OFFSET).
let server: TestServer;
let runId: string;
let fileUrl: URL;

beforeAll(async () => {
  server = await startTestServer();
  const result = await server.api.executeWorkflowAsync('solid-color', { default_value_1: 2 }, undefined, 100);
  fileUrl = new URL(result.data[0]!.download_url!);
  const submitted = await server.request('/api/v1/runs?workflow_id=text-echo', {
    method: 'POST',
    body: formOf({ default_value_1: 'bounds' }),
  });
  runId = (await submitted.json()).data.run_id;
  await waitFor(
    async () => (await (await server.request(`/api/v1/runs/${runId}`)).json()).data.status,
    (status) => status === 'completed',
  );
});
afterAll(async () => {
  await server?.close();
});

async function expectNamed(response: Response, parameter: string, value: string): Promise<void> {
  const body = await response.json();
  expect({ httpStatus: response.status, status: body.status }, `${parameter}=${value}`).toEqual({
    httpStatus: 400,
    status: 'error',
  });
  expect(['VALIDATION_ERROR', 'BAD_REQUEST']).toContain(body.code);
  const named = [body.errors, ...(body.details ?? []).map((d: { field: string }) => d.field)].join(' ');
  expect(named, `the error names ${parameter}`).toContain(parameter);
}

const HUGE = ['1e308', '1e400', '-1e308', '9007199254740993', '99999999999999999999999', 'Infinity', 'NaN'];
const ODD = ['-1', '1.5', 'abc', '1,2', '١', '1e'];

describe('numeric query parameters outside their bounds → 400 naming the parameter', () => {
  it('GET /runs: page and page_size', async () => {
    for (const value of [...HUGE, ...ODD, '0', '10000001']) {
      await expectNamed(
        await server.request(`/api/v1/runs?page=${encodeURIComponent(value)}`),
        'page',
        value,
      );
    }
    for (const value of [...HUGE, ...ODD, '0', '101']) {
      await expectNamed(
        await server.request(`/api/v1/runs?page_size=${encodeURIComponent(value)}`),
        'page_size',
        value,
      );
    }
    // The largest accepted page is an ordinary empty page.
    const last = await server.request('/api/v1/runs?page=10000000&page_size=100');
    expect(last.status).toBe(200);
    expect((await last.json()).data.runs).toEqual([]);
  });

  it('GET /runs/{id}/events: from_seq and Last-Event-ID', async () => {
    for (const value of [...HUGE, ...ODD, '2147483648']) {
      await expectNamed(
        await server.request(`/api/v1/runs/${runId}/events?from_seq=${encodeURIComponent(value)}`),
        'from_seq',
        value,
      );
    }
    for (const value of [...HUGE, ...ODD.filter((odd) => odd !== '١'), '2147483647']) {
      await expectNamed(
        await server.request(`/api/v1/runs/${runId}/events`, { headers: { 'last-event-id': value } }),
        'Last-Event-ID',
        value,
      );
    }
    // The largest accepted position on a finished run: nothing left to replay, and the stream ends.
    const lastPositions: Array<{ path: string; headers: Record<string, string> }> = [
      { path: `/api/v1/runs/${runId}/events?from_seq=2147483647`, headers: {} },
      { path: `/api/v1/runs/${runId}/events`, headers: { 'last-event-id': '2147483646' } },
    ];
    for (const init of lastPositions) {
      const stream = await server.request(init.path, { headers: init.headers });
      expect(stream.status).toBe(200);
      expect(await stream.text()).not.toMatch(/^event:/m);
    }
  });

  it('GET /files/{name}: expires', async () => {
    const signature = fileUrl.searchParams.get('signature')!;
    for (const value of [...HUGE, ...ODD, '100000000000']) {
      const url = `${fileUrl.pathname}?expires=${encodeURIComponent(value)}&signature=${signature}`;
      await expectNamed(await server.request(url, { key: null }), 'expires', value);
    }
    // The real link still works.
    expect((await server.request(`${fileUrl.pathname}${fileUrl.search}`, { key: null })).status).toBe(200);
  });

  it('none of that was a 5xx', async () => {
    const metrics = await (await server.request('/metrics')).text();
    expect(metrics).toContain('status_code="400"');
    expect(metrics).not.toMatch(/status_code="5\d\d"/);
  });
});
