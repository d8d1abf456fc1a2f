import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebStream } from 'node:stream/web';

/** How long an idle pooled upstream socket is kept for reuse. */
const IDLE_SOCKET_MS = 4000;
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

const abortError = (signal: AbortSignal): Error =>
  signal.reason instanceof Error
    ? signal.reason
    : new DOMException('The operation was aborted', 'AbortError');

function headerRecord(headers: HeadersInit | undefined): Record<string, string> {
  const record: Record<string, string> = {};
  new Headers(headers).forEach((value, name) => {
    record[name] = value;
  });
  return record;
}

function toWebResponse(res: http.IncomingMessage): Response {
  const headers = new Headers();
  for (let i = 0; i < res.rawHeaders.length; i += 2) {
    try {
      headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
    } catch {
      // A header the Fetch API cannot hold is dropped rather than failing the whole reply.
    }
  }
  const status = res.statusCode ?? 502;
  if (NULL_BODY_STATUSES.has(status)) res.resume();
  // Cancelling the Web body destroys the response, and with it the socket.
  const body = NULL_BODY_STATUSES.has(status) ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
  return new Response(body, { status, statusText: res.statusMessage ?? '', headers });
}

/**
 * The proxy's upstream client on Node: a `fetch` over `node:http(s)`. Node's own fetch (undici) could keep
 * an upstream socket established after the caller went away while the proxy still waited for response
 * headers. Here an abort, at any point, destroys the request, its socket and the upload stream, so an
 * abandoned request cannot hold a connection; only a request that finished returns its socket to the pool.
 */
export function createNodeUpstreamFetch(): typeof fetch {
  const agents = {
    'http:': new http.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
    'https:': new https.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
  };
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const signal = init.signal ?? undefined;
      if (signal?.aborted) return reject(abortError(signal));
      const transport = url.protocol === 'https:' ? https : http;
      const agent = agents[url.protocol as 'http:' | 'https:'];
      const request = transport.request(url, {
        method: init.method ?? 'GET',
        headers: headerRecord(init.headers),
        agent,
      });
      const upload = init.body ? Readable.fromWeb(init.body as NodeWebStream<Uint8Array>) : undefined;
      let response: http.IncomingMessage | undefined;
      const onAbort = (): void => {
        const error = abortError(signal as AbortSignal);
        upload?.destroy();
        response?.destroy(error);
        request.destroy(error);
        reject(error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = (): void => signal?.removeEventListener('abort', onAbort);
      request.on('error', (error) => {
        upload?.destroy();
        done();
        reject(new TypeError('fetch failed', { cause: error }));
      });
      request.on('response', (res) => {
        response = res;
        res.once('close', done);
        resolve(toWebResponse(res));
      });
      if (!upload) {
        request.end();
        return;
      }
      // An upload that fails (too large, caller gone) must not leave a half-sent request on a pooled socket.
      upload.on('error', (error) => request.destroy(error));
      upload.pipe(request);
    });
}
