import type { ExecutionOptions } from '../types/api';
import type { UploadProgressHandler } from '../uploads/progress';
import type { LogLevel } from './logger';

/** The optional trailing argument every method accepts. */
export interface RequestOptions {
  /** Aborts the call (and its retries). The call rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Per-attempt timeout in ms for this call; overrides the client's `timeout`. 0 disables it. */
  timeout?: number;
  /** Extra headers for this call only. */
  headers?: Record<string, string>;
  /** Sent as `Idempotency-Key`; also makes a POST safe to retry. `executeWorkflow` generates one. */
  idempotencyKey?: string;
}

/** The options of `executeWorkflow` (and, through ExecuteWorkflowAsyncOptions, `executeWorkflowAsync`). */
export interface ExecuteWorkflowOptions extends RequestOptions {
  /**
   * Called as the inputs upload, with `{ loaded, total }` bytes of the request body: monotonic, and the last
   * call has `loaded === total`. Node counts the streamed body; browsers send this one request with
   * XMLHttpRequest, as fetch cannot report upload progress there.
   */
  onUploadProgress?: UploadProgressHandler;
  /**
   * How the server runs it (the seeds' ExecutionOptions): `priority` orders its queue (`normal` when unset);
   * `timeout` (ms) bounds the run's execution there, after which it fails with "Run timed out after N ms";
   * `webhookUrl` is sent the run's end, signed (the `webhook_url` form field); `metadata` is stored with
   * the run and filterable in `getRuns` (the `metadata` query parameter, as JSON). Unlike the per-attempt
   * `timeout` above, these go to the server.
   */
  execution?: ExecutionOptions;
}

/** A `WebSocket` constructor: the browser's global, or `WebSocket` from `flowscale/node` (the `ws` adapter). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export interface WebSocketConstructor {
  new (
    url: string,
    protocols?: string | string[],
    options?: { headers?: Record<string, string> },
  ): WebSocketLike;
  /** Set by adapters that can send request headers (Node `ws`); browsers cannot. */
  readonly acceptsHeaders?: boolean;
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface FlowscaleConfig {
  /** Your API key, sent as `X-API-KEY`. Not needed in `proxyMode`. */
  apiKey?: string;
  /** The pod URL (`https://<id>.pod.flowscale.ai`), your server, or your backend proxy. */
  baseUrl?: string;
  /** Per-attempt request timeout in ms. @default 300000 */
  timeout?: number;
  /** Retries after the first attempt (network errors, 408, 429, 5xx). @default 3 */
  retries?: number;
  /** Base of the exponential backoff in ms. @default 1000 */
  retryDelay?: number;
  /** Talk to your own backend: no API key needed and no `X-API-KEY` header is sent. */
  proxyMode?: boolean;
  /**
   * Headers sent with every request (for example `Authorization: Bearer <jwt>` in proxy mode, or a
   * `User-Agent` in Node; browsers do not let scripts set that one).
   */
  customHeaders?: Record<string, string>;
  /**
   * Headers computed for each request to the API (each attempt), between `customHeaders` and the call's
   * own: for values that change per call. `traceHeaders` from `flowscale/otel` sends the active trace.
   */
  requestHeaders?: () => Record<string, string> | undefined;
  /** Required to use an `apiKey` in a browser, where every visitor can read it. */
  allowDangerouslyExposeApiKey?: boolean;
  /** @default true */
  enableLogging?: boolean;
  /** @default 'info' */
  logLevel?: LogLevel;
  /**
   * Connection pooling. An undici `Dispatcher` (native fetch in Node) is passed as `dispatcher`; anything
   * else (an `http(s).Agent`, for node-fetch) as `agent`.
   */
  httpAgent?: unknown;
  /** A `fetch` implementation. @default globalThis.fetch */
  fetchImpl?: FetchLike;
  /**
   * A `WebSocket` constructor. @default globalThis.WebSocket; where there is none (Node 20) the `ws`
   * package, loaded on first connect (an optional peer dependency: `npm install ws`).
   */
  webSocketImpl?: WebSocketConstructor;
}
