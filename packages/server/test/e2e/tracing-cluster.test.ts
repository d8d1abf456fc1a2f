import fs from 'node:fs';
import type { RunningEngine } from '@flowscale/engine';
import { trace } from '@opentelemetry/api';
import { FlowscaleAPI } from 'flowscale';
import { traceHeaders } from 'flowscale/otel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, startTestServer, type TestServer, tempDir, waitFor } from '../support/harness';
import { type OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

// Two replicas on one Postgres (cluster mode) and one engine. The first replica to start owns the
// engine's lease, so a run submitted to the second is placed and run by the first: it can continue the
// submit's trace only from the trace context stored with the run.
const OTEL_ENV = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_BSP_SCHEDULE_DELAY'];

let receiver: OtlpReceiver;
let database: TestDatabase;
let engine: RunningEngine;
let dataDir: string;
const replicas: TestServer[] = [];

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
  process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json';
  process.env.OTEL_BSP_SCHEDULE_DELAY = '50';
  database = await createTestDatabase('tracing');
  engine = await startTestEngine();
  dataDir = tempDir('tracing-cluster');
  for (let index = 0; index < 2; index++) {
    replicas.push(
      await startTestServer({
        databaseUrl: database.url,
        comfyuiUrls: [engine.url],
        dataDir,
        database: 'postgres',
      }),
    );
  }
}, 120_000);

afterAll(async () => {
  for (const replica of replicas.reverse()) await replica.close();
  await engine?.close();
  await database?.drop();
  await receiver?.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  for (const name of OTEL_ENV) delete process.env[name];
});

describe('traces across replicas', () => {
  it('the replica that runs a run continues the trace of the request another replica served', async () => {
    const [owner, front] = replicas as [TestServer, TestServer];
    const client = new FlowscaleAPI({
      apiKey: front.key,
      baseUrl: front.url,
      enableLogging: false,
      retries: 0,
      requestHeaders: traceHeaders,
    });
    const ids = await trace.getTracer('sdk-client').startActiveSpan('app: echo', async (span) => {
      const result = await client.executeWorkflowAsync(
        'text-echo',
        { default_value_1: 'across' },
        undefined,
        100,
        30_000,
      );
      expect(result.status).toBe('success');
      span.end();
      return span.spanContext();
    });
    await waitFor(
      async () => receiver.spans.filter((s) => s.traceId === ids.traceId),
      (spans) => spans.some((s) => s.name === 'flowscale.execute'),
    );
    const spans = receiver.spans.filter((s) => s.traceId === ids.traceId);
    const request = spans.find((s) => s.name === 'POST /api/v1/runs');
    expect(request?.parentSpanId).toBe(ids.spanId);
    for (const name of ['flowscale.queue_wait', 'flowscale.dispatch', 'flowscale.execute'])
      expect(spans.find((s) => s.name === name)?.parentSpanId).toBe(request!.spanId);
    expect(spans.filter((s) => s.name.startsWith('flowscale.node ')).length).toBeGreaterThan(0);
    expect(spans.filter((s) => s.name === 'flowscale.store_output')).toHaveLength(1);
    // No run span of a trace of its own: that is what a replica without the stored context would make.
    expect(receiver.spans.filter((s) => s.name === 'flowscale.run')).toEqual([]);
    // The front replica owns no backend, so the run was placed by the owner.
    const runId = String(spans.find((s) => s.name === 'flowscale.dispatch')?.attributes['flowscale.run.id']);
    const run = (await owner.api.getRun(runId)).data;
    expect(run.status).toBe('completed');
  });
});
