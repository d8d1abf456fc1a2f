import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';

export interface BackendResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body as a stream; consume it or call one of the readers below, once. */
  stream: IncomingMessage;
  buffer(): Promise<Buffer>;
  text(): Promise<string>;
  json<T>(): Promise<T>;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string | number>;
  body?: string;
  timeoutMs: number;
}

async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * One HTTP request over a keep-alive agent. node:http rather than fetch: on this hot path (several calls per
 * run) it costs a fraction of the CPU, and the agent's socket limit doubles as per-backend back-pressure.
 */
export function backendRequest(
  agent: http.Agent,
  url: URL,
  options: RequestOptions,
): Promise<BackendResponse> {
  return new Promise((resolve, reject) => {
    // The agent carries the TLS settings (CA, verification) of an https backend; see backend-tls.ts.
    const request = requestFunction(url)(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: options.method ?? 'GET',
        headers: {
          ...options.headers,
          ...(options.body !== undefined ? { 'content-length': Buffer.byteLength(options.body) } : {}),
        },
        timeout: options.timeoutMs,
      },
      (response) => {
        let consumed: Promise<Buffer> | undefined;
        const buffer = (): Promise<Buffer> => {
          consumed ??= readAll(response);
          return consumed;
        };
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          stream: response,
          buffer,
          text: async () => (await buffer()).toString('utf8'),
          json: async <T>() => JSON.parse((await buffer()).toString('utf8')) as T,
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error(`timed out after ${options.timeoutMs} ms`)));
    request.on('error', reject);
    request.end(options.body);
  });
}

/** `https.request` for an `https:` URL, else `http.request`: the scheme decides, never a default. */
export const requestFunction = (url: URL): typeof http.request =>
  url.protocol === 'https:' ? https.request : http.request;
