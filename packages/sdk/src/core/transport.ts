import { isWebStream } from '../uploads/uploadable';
import { type ErrorDetail, FlowScaleError, NetworkError, ValidationError } from './errors';
import type { Logger } from './logger';
import type { ExecuteWorkflowOptions, FlowscaleConfig } from './options';
import { backoffDelay, isTransient, retryDelayFor } from './retry';
import { linkSignal, timing } from './timing';

export type Query = Record<string, string | number | null | undefined>;

export interface Call extends ExecuteWorkflowOptions {
  method: string;
  /** API path, or (with `url`) the URL without its query, for log lines and error messages. */
  path: string;
  /** An absolute URL outside the API (a signed download): sent without the key or the custom headers. */
  url?: string;
  query?: Query;
  body?: BodyInit;
  contentType?: string;
}

/** The client's options with their defaults applied. */
export interface TransportConfig extends FlowscaleConfig {
  baseUrl: string;
  customHeaders: Record<string, string>;
  timeout: number;
  retries: number;
  retryDelay: number;
  logger: Logger;
}

export interface OpenResponse {
  response: Response;
  /** Aborts when the caller aborts or (while it runs) the timeout fires. */
  signal: AbortSignal;
  /** Detaches from the caller's signal; call it once the body is consumed or abandoned. */
  dispose(): void;
}

/** Fetch, headers, timeouts, retries and error mapping. The client's methods stay one-liners on top. */
export interface Transport {
  readonly config: TransportConfig;
  /** A JSON call. Resolves to the parsed body, or `null` for 204 No Content. */
  request<T>(call: Call): Promise<T | null>;
  /**
   * Sends `call` with retries and returns the first successful response with its body unread (the
   * timeout covers only the wait for headers when `bodyInTimeout` is false, as for event streams).
   */
  open(call: Call, bodyInTimeout?: boolean): Promise<OpenResponse>;
}

// Once per process: every client built with the same options would say the same thing.
let agentWarned = false;

export function createTransport(config: TransportConfig): Transport {
  const { logger } = config;
  const agent = config.httpAgent as { dispatch?: unknown } | undefined;
  const agentKey = agent && (typeof agent.dispatch === 'function' ? 'dispatcher' : 'agent');
  if (agentKey === 'agent' && !config.fetchImpl && !agentWarned) {
    agentWarned = true;
    logger.log(
      'warn',
      'httpAgent has no effect with the native fetch (it keeps connections alive already). Pass an undici Agent (npm install undici: httpAgent: new Agent({ connections: 8 })), or a fetchImpl that takes an http.Agent.',
    );
  }

  async function request<T>(call: Call): Promise<T | null> {
    const { response, signal, dispose } = await open(call, true);
    try {
      return response.status === 204 ? null : ((await response.json()) as T);
    } catch (error) {
      throw failure(signal.aborted ? signal.reason : error, call);
    } finally {
      dispose();
    }
  }

  async function open(call: Call, bodyInTimeout = false): Promise<OpenResponse> {
    const { retries, retryDelay } = config;
    // A streamed body can be read once; an idempotency key makes a POST safe to repeat.
    const replayable = !isWebStream(call.body);
    const safe = call.method !== 'POST' || call.idempotencyKey !== undefined;
    for (let attempt = 1; ; attempt++) {
      let delay: number | undefined;
      let failed: unknown;
      try {
        const opened = await send(call, bodyInTimeout);
        const { response } = opened;
        if (response.ok) return opened;
        failed = await httpError(response);
        opened.dispose();
        if (safe || response.status === 429)
          delay = retryDelayFor(response.status, response.headers.get('retry-after'), attempt, retryDelay);
      } catch (error) {
        failed = failure(error, call);
        // Here the failure is no HTTP status (those are handled above): a network error or a timeout.
        if (safe && isTransient(failed)) delay = backoffDelay(attempt, retryDelay);
      }
      if (delay === undefined || attempt > retries || !replayable || call.signal?.aborted) throw failed;
      logger.log(
        'warn',
        `${call.method} ${call.path} failed (${(failed as Error).message}); retry ${attempt}/${retries} in ${delay}ms`,
      );
      await timing.delay(delay, call.signal);
    }
  }

  /** One attempt. */
  async function send(call: Call, bodyInTimeout: boolean): Promise<OpenResponse> {
    const timeout = call.timeout ?? config.timeout;
    const link = linkSignal(call.signal, timeout, `Request timed out after ${timeout}ms`);
    const init: RequestInit & Record<string, unknown> = { method: call.method, headers: headersOf(call) };
    // Nothing can abort this request (no caller signal, timeout 0): give fetch no signal, since carrying
    // one costs Node's fetch ~5% per loopback request.
    if (call.signal || timeout > 0) init.signal = link.signal;
    // Only set when present: an explicit `body: undefined` measurably slows Node's fetch down.
    if (call.body !== undefined) init.body = call.body;
    if (isWebStream(call.body)) {
      // Node's fetch refuses a streamed request body unless it is told the body is sent half-duplex.
      init.duplex = 'half';
      // A stream cannot be re-sent after a redirect anyway, and with redirects allowed Node's fetch keeps
      // a copy of every chunk it sends (measured: 1 GiB of RSS for a 1 GiB upload).
      init.redirect = 'error';
    }
    if (agentKey) init[agentKey] = agent;
    const fetchImpl = config.fetchImpl ?? globalThis.fetch;
    logger.log('debug', `${call.method} ${call.path}`);
    try {
      const url = call.url ?? urlOf(config.baseUrl + call.path, call.query);
      const progress = call.body !== undefined && call.onUploadProgress;
      const response = await (progress
        ? import('../uploads/progress').then((m) =>
            m.sendWithProgress(fetchImpl, url, init as never, progress, !!config.fetchImpl),
          )
        : fetchImpl(url, init));
      if (!bodyInTimeout) link.clearTimer();
      return { response, signal: link.signal, dispose: link.dispose };
    } catch (error) {
      link.dispose();
      // Whatever fetch threw, the signal says why: our timer, the caller's abort, or the network.
      throw link.signal.aborted ? link.signal.reason : error;
    }
  }

  function headersOf(call: Call): Record<string, string> {
    // Another host (a signed URL) gets only this call's own headers: never the key or a bearer token.
    const headers: Record<string, string> = call.url
      ? { ...call.headers }
      : { ...config.customHeaders, ...config.requestHeaders?.(), ...call.headers };
    if (call.contentType) headers['Content-Type'] = call.contentType;
    if (call.idempotencyKey) headers['Idempotency-Key'] = call.idempotencyKey;
    if (!call.url && !config.proxyMode && config.apiKey) headers['X-API-KEY'] = config.apiKey;
    return headers;
  }

  /** Maps anything thrown around fetch to the SDK's error tree; the caller's abort reason passes through. */
  function failure(error: unknown, call: Call): unknown {
    if (error instanceof FlowScaleError) return error;
    if (call.signal?.aborted && error === call.signal.reason) return error;
    const reason = logger.redact(String((error as Error)?.message ?? error));
    if (error instanceof SyntaxError)
      return new FlowScaleError(`Invalid JSON in response: ${reason}`, { code: 'invalid_response' });
    return new NetworkError(`Network error on ${call.method} ${call.path}: ${reason}`, {
      code: 'network_error',
      cause: error,
    });
  }

  async function httpError(response: Response): Promise<FlowScaleError> {
    const text = await response.text().catch(() => '');
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) ?? {};
    } catch {}
    const errors = body.errors ?? (typeof body.detail === 'string' ? body.detail : undefined);
    const reason = Array.isArray(errors)
      ? errors.join('; ')
      : ((errors as string | undefined) ?? text.slice(0, 500));
    const message = logger.redact(`HTTP Error ${response.status} ${response.statusText} - ${reason}`);
    const code = typeof body.code === 'string' ? body.code : undefined;
    const options = { status: response.status, code, details: body.details ?? fastApiDetails(body.detail) };
    if (response.status === 400 || response.status === 422) {
      return new ValidationError(message, { ...options, details: options.details ?? [] });
    }
    return new FlowScaleError(message, options);
  }

  return { config, request, open };
}

/** `url` with the defined entries of `query` as its query string. */
function urlOf(url: string, query?: Query): string {
  if (!query) return url;
  const qs = new URLSearchParams(Object.entries(query).filter(([, v]) => v != null) as string[][]).toString();
  return qs ? `${url}?${qs}` : url;
}

/** FastAPI's 422 body `{detail: [{loc, msg}]}` as `{field, message}` pairs. */
function fastApiDetails(detail: unknown): ErrorDetail[] | undefined {
  if (!Array.isArray(detail)) return undefined;
  return detail.map((d: { loc?: unknown[]; msg?: string }) => ({
    field: (d.loc ?? []).filter((p) => p !== 'body').join('.'),
    message: d.msg ?? '',
  }));
}
