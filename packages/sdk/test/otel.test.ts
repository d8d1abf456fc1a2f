import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { afterEach, describe, expect, it } from 'vitest';
import { FlowscaleAPI } from '../src/index';
import { traceHeaders } from '../src/otel/index';
import { contractServerPerTest } from './support/client';

const serve = contractServerPerTest();
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

/** A real OpenTelemetry SDK for this process, as an app that traces registers one. */
function registerTracing() {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register();
  return { tracer: provider.getTracer('sdk-otel-test'), exporter, provider };
}

afterEach(() => {
  trace.disable();
  context.disable();
  propagation.disable();
});

describe('trace context (flowscale/otel)', () => {
  it('sends no traceparent when no tracer is active, with or without the hook', async () => {
    const server = await serve();
    const hooked = new FlowscaleAPI({
      apiKey: server.apiKey,
      baseUrl: server.url,
      enableLogging: false,
      requestHeaders: traceHeaders,
    });
    const plain = new FlowscaleAPI({ apiKey: server.apiKey, baseUrl: server.url, enableLogging: false });
    await hooked.checkHealth();
    await plain.checkHealth();
    const requests = server.requestsTo('/api/v1/comfy/health');
    expect(requests).toHaveLength(2);
    for (const request of requests) {
      expect(request.headers.traceparent).toBeUndefined();
      expect(request.headers.tracestate).toBeUndefined();
    }
    expect(traceHeaders()).toEqual({});
  });

  it("sends the active span's traceparent on every request, each attempt included", async () => {
    const server = await serve();
    const { tracer, provider } = registerTracing();
    const client = new FlowscaleAPI({
      apiKey: server.apiKey,
      baseUrl: server.url,
      enableLogging: false,
      retryDelay: 1,
      requestHeaders: traceHeaders,
    });
    server.inject({ path: '/api/v1/comfy/queue', status: 503 });
    const ids = await tracer.startActiveSpan('client call', async (span) => {
      await client.checkHealth();
      await client.getQueue();
      span.end();
      return span.spanContext();
    });
    // Outside any span: nothing.
    await client.checkHealth();
    const sent = [...server.requestsTo('/api/v1/comfy/health'), ...server.requestsTo('/api/v1/comfy/queue')];
    expect(sent).toHaveLength(4);
    const traced = sent.filter((request) => request.headers.traceparent !== undefined);
    expect(traced).toHaveLength(3);
    for (const request of traced) {
      const [, traceId, spanId] = TRACEPARENT.exec(String(request.headers.traceparent)) ?? [];
      expect([traceId, spanId]).toEqual([ids.traceId, ids.spanId]);
    }
    await provider.shutdown();
  });

  it("writes the traceparent itself when the app registered no propagator, and the call's headers win", async () => {
    const server = await serve();
    const exporter = new InMemorySpanExporter();
    const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    // A tracer and a context manager, but no propagator (register() would set W3C trace context).
    provider.register({ propagator: null });
    const client = new FlowscaleAPI({
      apiKey: server.apiKey,
      baseUrl: server.url,
      enableLogging: false,
      requestHeaders: traceHeaders,
    });
    const tracer = provider.getTracer('sdk-otel-test');
    const ids = await tracer.startActiveSpan('client call', async (span) => {
      await client.checkHealth();
      await client.getWorkflows({ headers: { traceparent: 'mine' } });
      span.end();
      return span.spanContext();
    });
    expect(server.requestsTo('/api/v1/comfy/health')[0]?.headers.traceparent).toBe(
      `00-${ids.traceId}-${ids.spanId}-01`,
    );
    expect(server.requestsTo('/api/v1/comfy/workflows')[0]?.headers.traceparent).toBe('mine');
    await provider.shutdown();
  });
});
