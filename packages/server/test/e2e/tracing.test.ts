import { SpanKind, trace } from '@opentelemetry/api';
import { FlowscaleAPI } from 'flowscale';
import { traceHeaders } from 'flowscale/otel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, waitFor } from '../support/harness';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../support/otlp-receiver';
import { solidPng } from '../support/png';
import { type Relay, startRelay } from '../support/relay';

// The server exports its traces to a real loopback OTLP/HTTP receiver (JSON protocol), found through the
// standard variables. They are set for this file's process only, and only around the server's start.
const OTEL_ENV = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_BSP_SCHEDULE_DELAY'];

let receiver: OtlpReceiver;
let server: TestServer;
let relay: Relay;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
  process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json';
  process.env.OTEL_BSP_SCHEDULE_DELAY = '50';
  server = await startTestServer();
  // Between the SDK and the server, to see the bytes the SDK sends.
  relay = await startRelay(Number(new URL(server.url).port));
});

afterAll(async () => {
  await relay?.close();
  await server?.close();
  await receiver?.close();
  for (const name of OTEL_ENV) delete process.env[name];
});

const spansOf = (traceId: string): ReceivedSpan[] => receiver.spans.filter((s) => s.traceId === traceId);
const named = (spans: ReceivedSpan[], name: string): ReceivedSpan[] =>
  spans.filter((s) => s.name === name || s.name.startsWith(`${name} `));

describe('traces (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  it('one trace from the SDK call through the request, queue wait, dispatch, each node, to stored outputs', async () => {
    const client = new FlowscaleAPI({
      apiKey: server.key,
      baseUrl: relay.url,
      enableLogging: false,
      retries: 0,
      requestHeaders: traceHeaders,
    });
    // A real tracer of the process's OpenTelemetry SDK (the one the server started), as an app has.
    const tracer = trace.getTracer('sdk-client');
    const png = solidPng(4, 3, [10, 200, 30]);
    const { ids, result } = await tracer.startActiveSpan('app: invert an image', async (span) => {
      const result = await client.executeWorkflowAsync(
        'invert-image',
        { image_1: new Blob([new Uint8Array(png)], { type: 'image/png' }) },
        undefined,
        100,
        30_000,
      );
      span.end();
      return { ids: span.spanContext(), result };
    });
    expect(result.status).toBe('success');
    expect(result.data).toHaveLength(1);

    // The SDK sent the client span's context on the submit.
    const submit = relay.sent().find((bytes) => bytes.startsWith('POST /api/v1/runs'));
    expect(submit).toMatch(new RegExp(`\\r\\ntraceparent: 00-${ids.traceId}-${ids.spanId}-01\\r\\n`, 'i'));

    // Every span reaches the receiver (batched every 50 ms): wait for the last ones, the run's end.
    await waitFor(
      async () => spansOf(ids.traceId),
      (spans) => named(spans, 'flowscale.execute').length === 1 && named(spans, 'app:').length === 1,
    );
    const spans = spansOf(ids.traceId);
    const [client_] = named(spans, 'app:');
    const [request] = spans.filter((s) => s.name === 'POST /api/v1/runs');
    expect(client_?.parentSpanId).toBe('');
    expect(request).toMatchObject({
      kind: SpanKind.SERVER + 1, // OTLP numbers kinds from 1 (SERVER = 2)
      parentSpanId: ids.spanId,
      service: 'flowscale-server',
      attributes: { 'http.route': '/api/v1/runs', 'http.response.status_code': 201 },
    });
    const runId = String(named(spans, 'flowscale.queue_wait')[0]?.attributes['flowscale.run.id']);
    expect(runId).toMatch(/^[0-9a-f-]{36}$/);

    // The run's own steps hang off the submit request; node and storage spans off the execution.
    const [wait] = named(spans, 'flowscale.queue_wait');
    const [dispatch] = named(spans, 'flowscale.dispatch');
    const [execute] = named(spans, 'flowscale.execute');
    for (const span of [wait, dispatch, execute]) {
      expect(span?.parentSpanId).toBe(request!.spanId);
      expect(span?.attributes['flowscale.run.id']).toBe(runId);
    }
    expect(dispatch?.attributes).toMatchObject({
      'flowscale.backend': 'container #1',
      'flowscale.dispatch.outcome': 'submitted',
    });
    expect(execute?.attributes['flowscale.run.status']).toBe('completed');
    expect(wait!.endNs <= dispatch!.startNs).toBe(true);
    expect(dispatch!.endNs <= execute!.startNs).toBe(true);

    const nodes = named(spans, 'flowscale.node');
    // invert-image: its three nodes, each as the backend reported it executing.
    expect(nodes.map((n) => n.attributes['flowscale.node.type']).sort()).toEqual([
      'FSLoadImage',
      'FSSaveImage',
      'ImageInvert',
    ]);
    for (const node of nodes) {
      expect(node.parentSpanId).toBe(execute!.spanId);
      expect(node.startNs >= execute!.startNs && node.endNs <= execute!.endNs).toBe(true);
    }
    const stores = named(spans, 'flowscale.store_output');
    expect(stores).toHaveLength(1);
    expect(stores[0]).toMatchObject({
      parentSpanId: execute!.spanId,
      attributes: { 'flowscale.output.filename': result.data[0]!.filename, 'flowscale.node.id': '3' },
    });

    // Nothing of this run went to another trace.
    const ofRun = receiver.spans.filter((s) => s.attributes['flowscale.run.id'] === runId);
    expect(new Set(ofRun.map((s) => s.traceId))).toEqual(new Set([ids.traceId]));
    // The polls and the event stream of the wait continue the client's trace too.
    expect(
      spans.some(
        (s) => s.name === 'GET /api/v1/runs/:runId/events' || s.name.startsWith('GET /api/v1/runs/'),
      ),
    ).toBe(true);
  });
});
