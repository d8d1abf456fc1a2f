import {
  context,
  DiagLogLevel,
  diag,
  type ProxyTracerProvider,
  propagation,
  trace,
} from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { traceRequests } from './http-spans';
import { RunTracer } from './run-tracer';
import type { Telemetry } from './telemetry';

const TRACER_NAME = '@flowscale/server';
const SHUTDOWN_FLUSH_MS = 3000;

// One SDK per process, however many servers it runs (tests start several): OpenTelemetry's globals can
// be registered once. The last server to close shuts it down and clears them.
let shared: { sdk: NodeSDK; users: number } | undefined;

/** Starts (or joins) the process's OpenTelemetry SDK; its exporter is chosen by the OTEL_* variables. */
export function startOtel(env: NodeJS.ProcessEnv, log: Logger): Telemetry {
  if (!shared) {
    diag.setLogger(
      {
        error: (message, ...args) => log.warn({ args }, `OpenTelemetry: ${message}`),
        warn: (message, ...args) => log.warn({ args }, `OpenTelemetry: ${message}`),
        info: () => undefined,
        debug: () => undefined,
        verbose: () => undefined,
      },
      { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
    );
    const sdk = new NodeSDK({
      // OTEL_SERVICE_NAME, when set, names the service; an explicit name here would override it.
      ...(env.OTEL_SERVICE_NAME ? {} : { serviceName: 'flowscale-server' }),
      // Spans of our own making only; metrics stay Prometheus' (/metrics), logs stay pino's.
      instrumentations: [],
      metricReaders: [],
      logRecordProcessors: [],
    });
    sdk.start();
    shared = { sdk, users: 0 };
  }
  const current = shared;
  current.users++;
  const tracer = trace.getTracer(TRACER_NAME);
  let closed: Promise<void> | undefined;
  return {
    runs: new RunTracer(tracer),
    traceRequests: (app: FastifyInstance) => traceRequests(app, tracer),
    shutdown() {
      closed ??= (async () => {
        current.users--;
        if (current.users > 0) {
          const provider = (trace.getTracerProvider() as ProxyTracerProvider).getDelegate();
          await withinLimit((provider as { forceFlush?: () => Promise<void> }).forceFlush?.(), log);
          return;
        }
        if (shared === current) shared = undefined;
        await withinLimit(current.sdk.shutdown(), log);
        trace.disable();
        context.disable();
        propagation.disable();
        diag.disable();
      })();
      return closed;
    },
  };
}

/** Waits for the last export at most SHUTDOWN_FLUSH_MS: an unreachable collector must not hold up a shutdown. */
async function withinLimit(flush: Promise<unknown> | undefined, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), SHUTDOWN_FLUSH_MS);
    timer.unref();
  });
  const outcome = await Promise.race([
    Promise.resolve(flush).then(
      () => 'done' as const,
      (error: unknown) => ({ error }),
    ),
    late,
  ]);
  clearTimeout(timer);
  if (outcome === 'late')
    log.warn(`OpenTelemetry: spans not exported within ${SHUTDOWN_FLUSH_MS} ms of shutdown were dropped`);
  else if (outcome !== 'done')
    log.warn({ err: outcome.error }, 'OpenTelemetry: the last spans could not be exported');
}
