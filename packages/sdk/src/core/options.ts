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
  /** A `WebSocket` constructor. @default globalThis.WebSocket; in Node use `WebSocket` from 'flowscale/node'. */
  webSocketImpl?: WebSocketConstructor;
}
