import { lookup as dnsLookup } from 'node:dns/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { blockedReason } from './address-policy';

/** Why a URL input could not be used. `refused` never left the server; `failed` did and went wrong. */
export class UrlInputError extends Error {
  readonly kind: 'refused' | 'failed' | 'too_large';
  constructor(kind: 'refused' | 'failed' | 'too_large', message: string) {
    super(message);
    this.name = 'UrlInputError';
    this.kind = kind;
  }
}

export type Resolver = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

export interface UrlFetchOptions {
  /** Lets loopback/private/link-local targets through (local development and tests only). */
  allowPrivate: boolean;
  /** Longest wait for the connection, the response headers, or between two chunks of the body. */
  idleTimeoutMs: number;
  /** Longest the whole fetch (every hop and the body) may take. */
  totalTimeoutMs: number;
  /** Bytes; a declared Content-Length above it is refused before the body is read. */
  limitBytes: number;
  /** DNS resolution; injectable so tests can map names without touching real DNS. */
  resolve?: Resolver;
  /** Extra trusted CA certificates (PEM) for https; tests use it for a self-signed loopback origin. */
  ca?: string;
  /** The address policy; injectable so tests can allow exactly one loopback address and refuse the rest. */
  blocked?: (address: string) => string | undefined;
}

export const MAX_REDIRECTS = 3;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const defaultResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** The parts of a checked URL needed to connect to exactly the address that was checked. */
interface Target {
  url: URL;
  /** The resolved address the connection is pinned to (no second lookup, so no DNS rebinding). */
  address: string;
}

/** Refuses bad schemes, credentials and blocked addresses; resolves the host once and pins the result. */
export async function checkUrl(raw: string | URL, options: UrlFetchOptions): Promise<Target> {
  let url: URL;
  try {
    url = typeof raw === 'string' ? new URL(raw) : raw;
  } catch {
    throw new UrlInputError('refused', 'not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UrlInputError('refused', `only http and https URLs are accepted, not ${url.protocol}`);
  if (url.username || url.password)
    throw new UrlInputError('refused', 'URLs with credentials (user:password@) are not accepted');
  // WHATWG URL has already normalised odd IPv4 spellings (0x7f.1, 2130706433) to dotted form.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await (options.resolve ?? defaultResolver)(host)).map((entry) => entry.address);
    } catch {
      throw new UrlInputError('failed', `could not resolve ${host}`);
    }
    if (addresses.length === 0) throw new UrlInputError('failed', `could not resolve ${host}`);
  }
  if (!options.allowPrivate) {
    // Every address must pass: an attacker controls which of several records a client would pick.
    for (const address of addresses) {
      const reason = (options.blocked ?? blockedReason)(address);
      if (reason) {
        const via = address === host ? '' : ` (${host} resolves to ${address})`;
        throw new UrlInputError(
          'refused',
          `${address} is ${reason}${via}; only public addresses are fetched`,
        );
      }
    }
  }
  return { url, address: addresses[0] as string };
}

/** One request to the pinned address; TLS still verifies the certificate against the URL's host name. */
function requestOnce(
  target: Target,
  signal: AbortSignal,
  options: UrlFetchOptions,
): Promise<IncomingMessage> {
  const { idleTimeoutMs } = options;
  const { url, address } = target;
  const secure = url.protocol === 'https:';
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return new Promise((resolve, reject) => {
    const request = (secure ? https : http).request({
      host: address,
      port: url.port || (secure ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      headers: { host: url.host, 'user-agent': 'flowscale-server', accept: '*/*' },
      agent: false,
      signal,
      ...(secure && !isIP(host) ? { servername: host } : {}),
      ...(secure && options.ca ? { ca: options.ca } : {}),
    });
    request.setTimeout(idleTimeoutMs, () =>
      request.destroy(new UrlInputError('failed', `no answer from ${url.host} within ${idleTimeoutMs} ms`)),
    );
    request.once('response', resolve);
    request.once('error', reject);
    request.end();
  });
}

const describeFailure = (error: unknown, url: URL): UrlInputError => {
  if (error instanceof UrlInputError) return error;
  const name = (error as { name?: string }).name;
  if (name === 'AbortError' || name === 'TimeoutError')
    return new UrlInputError('failed', `fetching from ${url.host} took too long`);
  const code = (error as { code?: string }).code;
  return new UrlInputError('failed', `could not fetch from ${url.host}: ${code ?? (error as Error).message}`);
};

/**
 * GETs a URL input, following at most MAX_REDIRECTS redirects, each hop checked and pinned like the first.
 * Resolves with the 2xx response, its body unread, for the caller to stream; `signal` covers the body too.
 */
export async function openUrl(
  raw: string,
  options: UrlFetchOptions,
): Promise<{ response: IncomingMessage; url: URL; signal: AbortSignal }> {
  const signal = AbortSignal.timeout(options.totalTimeoutMs);
  let target = await checkUrl(raw, options);
  for (let hop = 0; ; hop++) {
    let response: IncomingMessage;
    try {
      response = await requestOnce(target, signal, options);
    } catch (error) {
      throw describeFailure(error, target.url);
    }
    const status = response.statusCode ?? 0;
    if (REDIRECT_STATUSES.has(status)) {
      response.destroy();
      const location = response.headers.location;
      if (!location) throw new UrlInputError('failed', `${target.url.host} redirected without a Location`);
      if (hop >= MAX_REDIRECTS) throw new UrlInputError('failed', `more than ${MAX_REDIRECTS} redirects`);
      let next: URL;
      try {
        next = new URL(location, target.url);
      } catch {
        throw new UrlInputError('failed', `${target.url.host} redirected to an invalid URL`);
      }
      try {
        target = await checkUrl(next, options);
      } catch (error) {
        const reason = (error as Error).message;
        throw new UrlInputError((error as UrlInputError).kind ?? 'refused', `redirect refused: ${reason}`);
      }
      continue;
    }
    if (status < 200 || status > 299) {
      response.destroy();
      throw new UrlInputError('failed', `${target.url.host} answered HTTP ${status}`);
    }
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > options.limitBytes) {
      response.destroy();
      throw new UrlInputError(
        'too_large',
        `the file is larger than the limit of ${options.limitBytes} bytes`,
      );
    }
    return { response, url: target.url, signal };
  }
}
