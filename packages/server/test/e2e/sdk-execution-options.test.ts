import type { RunningEngine } from '@flowscale/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, startTestServer, type TestServer, waitFor } from '../support/harness';
import { startWebhookReceiver } from '../support/webhook-receiver';

// The seeds' ExecutionOptions (`priority`, `timeout`, `webhookUrl`, `metadata`), given to the SDK as
// `execution`, reach the real server: the run record carries them, the server enforces the timeout, and
// the run's end is posted to the webhook URL.
let engine: RunningEngine;
let server: TestServer;

beforeAll(async () => {
  engine = await startTestEngine();
  // The webhook receiver listens on loopback, which webhooks may reach only when allowed.
  server = await startTestServer({ comfyuiUrls: [engine.url], allowPrivateUrls: true });
});
afterAll(async () => {
  await server?.close();
  await engine?.close();
});

const finished = (runId: string) =>
  waitFor(
    async () => (await server.api.getRun(runId)).data,
    (run) => ['completed', 'failed', 'cancelled'].includes(run.status),
    60_000,
  );

describe('ExecutionOptions through the SDK', () => {
  it('sends priority and timeout: the run is recorded with both and times out on the server', async () => {
    const started = await server.api.executeWorkflow(
      'slow-delay',
      { default_value_1: 'slow', value_4: 60 },
      undefined,
      { execution: { priority: 'high', timeout: 1500 } },
    );
    const run = (await finished(started.data.run_id)) as unknown as Record<string, unknown>;
    expect(run).toMatchObject({
      status: 'failed',
      priority: 'high',
      timeout_ms: 1500,
      error: expect.objectContaining({ code: 'RUN_TIMED_OUT', message: 'Run timed out after 1500 ms' }),
    });
  }, 60_000);

  it('sends webhookUrl and metadata: the run keeps the metadata, is found by it, and its end is posted', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const order = `A-${Date.now()}`;
      const started = await server.api.executeWorkflow(
        'text-echo',
        { default_value_1: 'hooked' },
        undefined,
        {
          execution: { webhookUrl: `${receiver.url}?to=sdk`, metadata: { order, attempt: 2 } },
        },
      );
      const runId = started.data.run_id;
      const run = (await finished(runId)) as unknown as Record<string, unknown>;
      expect(run).toMatchObject({ status: 'completed', metadata: { order, attempt: 2 } });
      const found = await (await server.request(`/api/v1/runs?metadata.order=${order}`)).json();
      expect(found.data.runs.map((each: { _id: string }) => each._id)).toEqual([runId]);
      const delivered = await waitFor(
        async () => receiver.received.find((each) => each.type === 'run.completed'),
        (hook) => hook !== undefined,
        20_000,
      );
      expect(delivered?.path.endsWith('?to=sdk')).toBe(true);
      expect(JSON.parse(delivered!.body).data.run).toMatchObject({ id: runId, status: 'completed' });
    } finally {
      await receiver.close();
    }
  }, 60_000);

  it('executeWorkflowAsync passes them on too; without them the run is normal with no timeout', async () => {
    let low = '';
    const result = await server.api.executeWorkflowAsync(
      'text-echo',
      { default_value_1: 'quiet' },
      undefined,
      100,
      30_000,
      {
        execution: { priority: 'low' },
        onIntermediateResponse: (update) => {
          if (update.type === 'workflow_submitted') low = update.runId;
        },
      },
    );
    expect(result.data[0]?.file_content).toBe('quiet from FlowScale');
    expect((await server.api.getRun(low)).data).toMatchObject({ priority: 'low', timeout_ms: null });
    const plain = await server.api.executeWorkflow('text-echo', { default_value_1: 'p' });
    expect((await finished(plain.data.run_id)) as unknown).toMatchObject({
      priority: 'normal',
      timeout_ms: null,
    });
  });

  it("a bad value is the server's 400, naming the option", async () => {
    const bad = server.api.executeWorkflow('text-echo', {}, undefined, {
      execution: { priority: 'urgent' as 'high' },
    });
    await expect(bad).rejects.toMatchObject({ status: 400, message: expect.stringContaining('priority') });
  });
});
