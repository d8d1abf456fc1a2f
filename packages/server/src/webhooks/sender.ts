import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { checkUrl, UrlInputError } from '../inputs/url-fetch';

export interface SendOptions {
  /** The URL-input setting: lets loopback/private targets through (development and tests only). */
  allowPrivate: boolean;
  timeoutMs: number;
}

export interface SendResult {
  /** Null when no HTTP answer came. */
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
}

/** Only so much of a receiver's answer is read; the rest is dropped with the connection. */
const MAX_RESPONSE_BYTES = 64 * 1024;

// Connections to receivers are reused between deliveries: most endpoints get bursts of events. The agents
// key sockets by the pinned address, so a reused socket always goes where the address policy allowed.
// As many may stay open idle as may be busy: keeping fewer closed most of a burst's sockets after it, only
// to connect them again for the next (a third of a 10,000-delivery bench's CPU went to connecting).
const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 64 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 64 }),
};

/**
 * POSTs one signed webhook. The target is checked and its address pinned like a URL input's (same policy,
 * no DNS rebinding), redirects are not followed, and only a 2xx is a success.
 */
export async function sendWebhook(
  url: string,
  headers: Record<string, string>,
  body: string,
  options: SendOptions,
): Promise<SendResult> {
  const started = performance.now();
  const latency = (): number => Math.round(performance.now() - started);
  let target: Awaited<ReturnType<typeof checkUrl>>;
  try {
    target = await checkUrl(url, {
      allowPrivate: options.allowPrivate,
      idleTimeoutMs: options.timeoutMs,
      totalTimeoutMs: options.timeoutMs,
      limitBytes: 0,
    });
  } catch (error) {
    const message = error instanceof UrlInputError ? error.message : String(error);
    return { statusCode: null, latencyMs: latency(), error: `refused: ${message}` };
  }
  try {
    const statusCode = await post(target, headers, body, options.timeoutMs);
    return {
      statusCode,
      latencyMs: latency(),
      error: statusCode >= 200 && statusCode < 300 ? null : `HTTP ${statusCode}`,
    };
  } catch (error) {
    return { statusCode: null, latencyMs: latency(), error: describe(error, options.timeoutMs) };
  }
}

function describe(error: unknown, timeoutMs: number): string {
  const name = (error as { name?: string }).name;
  if (name === 'AbortError' || name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const code = (error as { code?: string }).code;
  return code ?? (error as Error).message ?? String(error);
}

function post(
  target: { url: URL; address: string },
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<number> {
  const { url, address } = target;
  const secure = url.protocol === 'https:';
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const payload = Buffer.from(body);
  return new Promise((resolve, reject) => {
    const request = (secure ? https : http).request({
      host: address,
      port: url.port || (secure ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      headers: {
        ...headers,
        host: url.host,
        'content-type': 'application/json',
        'content-length': String(payload.length),
        'user-agent': 'flowscale-server-webhooks',
      },
      agent: secure ? agents.https : agents.http,
      signal: AbortSignal.timeout(timeoutMs),
      ...(secure && !isIP(host) ? { servername: host } : {}),
    });
    request.once('error', reject);
    request.once('response', (response) => {
      let read = 0;
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_RESPONSE_BYTES) response.destroy();
      });
      response.once('end', () => resolve(response.statusCode ?? 0));
      response.once('close', () => resolve(response.statusCode ?? 0));
      response.once('error', () => resolve(response.statusCode ?? 0));
    });
    request.end(payload);
  });
}
