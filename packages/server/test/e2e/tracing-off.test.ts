import { FlowscaleAPI } from 'flowscale';
import { traceHeaders } from 'flowscale/otel';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelemetry, tracesWanted } from '../../src/telemetry/telemetry';
import { startTestServer, type TestServer } from '../support/harness';
import { type OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver';
import { solidPng } from '../support/png';
import { type Relay, startRelay } from '../support/relay';

// Where OpenTelemetry's API keeps whatever an SDK registers (tracer provider, propagator, context manager).
const OTEL_GLOBALS = Symbol.for('opentelemetry.js.api.1');

let receiver: OtlpReceiver;
let server: TestServer;
let relay: Relay;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  // Everything but the endpoint: the endpoint alone turns traces on.
  delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json';
  process.env.OTEL_BSP_SCHEDULE_DELAY = '50';
  server = await startTestServer();
  relay = await startRelay(Number(new URL(server.url).port));
});

afterAll(async () => {
  await relay?.close();
  await server?.close();
  await receiver?.close();
  delete process.env.OTEL_EXPORTER_OTLP_PROTOCOL;
  delete process.env.OTEL_BSP_SCHEDULE_DELAY;
});

describe('traces off (no OTLP endpoint)', () => {
  it('exports nothing, starts no SDK, and the SDK sends no traceparent with no tracer active', async () => {
    const client = new FlowscaleAPI({
      apiKey: server.key,
      baseUrl: relay.url,
      enableLogging: false,
      retries: 0,
      requestHeaders: traceHeaders,
    });
    const result = await client.executeWorkflowAsync(
      'invert-image',
      { image_1: new Blob([new Uint8Array(solidPng(4, 3, [1, 2, 3]))], { type: 'image/png' }) },
      undefined,
      100,
      30_000,
    );
    expect(result.status).toBe('success');
    const sent = relay.sent();
    expect(sent.some((bytes) => bytes.startsWith('POST /api/v1/runs'))).toBe(true);
    expect(sent.join('')).not.toMatch(/traceparent|tracestate/i);
    // No OpenTelemetry SDK registered anything in this process (the server's is started only with an
    // endpoint); closing the server would flush one if it existed.
    expect((globalThis as Record<symbol, unknown>)[OTEL_GLOBALS]).toBeUndefined();
    await server.close();
    expect(receiver.requests).toEqual([]);
  });

  it('the endpoint turns traces on; OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none turn them off', () => {
    const endpoint = 'http://127.0.0.1:4318';
    expect(tracesWanted({})).toBe(false);
    expect(tracesWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: ' ' })).toBe(false);
    expect(tracesWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint })).toBe(true);
    expect(tracesWanted({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${endpoint}/v1/traces` })).toBe(true);
    expect(tracesWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SDK_DISABLED: 'true' })).toBe(false);
    expect(tracesWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
  });

  it('an endpoint that is not an http(s) URL stops the start, naming the variable', async () => {
    const log = pino({ enabled: false });
    await expect(startTelemetry(log, { OTEL_EXPORTER_OTLP_ENDPOINT: 'notaurl' })).rejects.toThrow(
      'OTEL_EXPORTER_OTLP_ENDPOINT="notaurl": not a URL (expected e.g. http://127.0.0.1:4318)',
    );
    await expect(
      startTelemetry(log, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://collector/v1/traces' }),
    ).rejects.toThrow('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="ftp://collector/v1/traces": must be an http');
    // Refused before anything was loaded or registered.
    expect((globalThis as Record<symbol, unknown>)[OTEL_GLOBALS]).toBeUndefined();
  });
});
