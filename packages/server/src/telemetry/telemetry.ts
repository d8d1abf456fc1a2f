import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { httpUrl } from '../config/settings';
import type { RunTracing } from './run-tracing';

/** Traces of this server: spans of HTTP requests and of each run's steps, exported over OTLP. */
export interface Telemetry {
  /** The hooks run code calls (see RunTracing). */
  runs: RunTracing;
  /** A server span per request, continuing the caller's `traceparent`; handlers run in its context. */
  traceRequests(app: FastifyInstance): void;
  /** Flushes the spans not yet exported; the last server of the process also stops the SDK. */
  shutdown(): Promise<void>;
}

/**
 * Whether traces are exported: only when an OTLP endpoint is configured, as the OpenTelemetry
 * environment variables say. `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` turn it off again.
 */
export function tracesWanted(env: NodeJS.ProcessEnv): boolean {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint?.trim()) return false;
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  return env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() !== 'none';
}

/**
 * Starts OpenTelemetry when an OTLP endpoint is configured; undefined (nothing loaded, nothing started,
 * nothing hooked in) otherwise. The SDK is loaded lazily, so a server without traces never pays for it.
 */
export async function startTelemetry(
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Telemetry | undefined> {
  if (!tracesWanted(env)) return undefined;
  // The exporter would fall back to localhost:4318 with a mere warning; a typo should stop the start.
  for (const name of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']) {
    const value = env[name]?.trim();
    if (value) httpUrl({ env: name }, value, 'http://127.0.0.1:4318');
  }
  const { startOtel } = await import('./otel');
  return startOtel(env, log);
}
