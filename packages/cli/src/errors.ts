import { CommanderError } from 'commander';
import { describeSource, type ResolvedConfig } from './config';
import { CliError, ExitCode } from './exit-codes';

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

interface ErrorLike {
  name?: string;
  message?: string;
  status?: number;
  statusCode?: number;
  code?: string | number;
  cause?: unknown;
  details?: unknown;
}

const asErrorLike = (err: unknown): ErrorLike => (typeof err === 'object' && err !== null ? err : {});

/** Follows `cause` chains (fetch wraps socket errors twice) looking for a transport error code. */
function isConnectionError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const x = asErrorLike(e);
    if (typeof x.code === 'string' && CONNECTION_CODES.has(x.code)) return true;
    if (x.name === 'NetworkError' || x.name === 'APIConnectionError' || x.name === 'ConnectionError')
      return true;
    if (x.message === 'fetch failed') return true;
    e = x.cause;
  }
  return false;
}

function isTimeout(err: unknown): boolean {
  const x = asErrorLike(err);
  return (
    x.name === 'TimeoutError' ||
    x.code === 'ETIMEDOUT' ||
    x.status === 408 ||
    /timed out/i.test(x.message ?? '')
  );
}

export function httpStatus(err: unknown): number | undefined {
  const x = asErrorLike(err);
  const s = x.status ?? x.statusCode;
  return typeof s === 'number' ? s : undefined;
}

/** One line, whatever the error carried: API messages sometimes include newlines or stack-ish detail. */
const oneLine = (s: string): string => s.split('\n')[0]!.trim();

/** Strips SDK prefixes like "HTTP Error 404 Not Found - " so the user sees the server's own words. */
function serverMessage(err: unknown): string {
  const x = asErrorLike(err);
  const msg = oneLine(x.message ?? String(err));
  return msg.replace(/^HTTP Error \d+[^-]*-\s*/, '');
}

function detailsSuffix(err: unknown): string {
  const details = asErrorLike(err).details;
  if (!Array.isArray(details) || details.length === 0) return '';
  const parts = details
    .map((d) => asErrorLike(d) as { field?: string; message?: string })
    .filter((d) => d.message)
    .map((d) => (d.field ? `${d.field}: ${d.message}` : d.message!));
  return parts.length ? ` (${parts.join('; ')})` : '';
}

/**
 * Maps anything thrown while running a command to a one-line message and a stable exit code. The message
 * always says what to do next, using where the offending setting came from.
 */
export function toCliError(err: unknown, config?: ResolvedConfig): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof CommanderError) {
    return new CliError(oneLine(err.message.replace(/^error:\s*/, '')), ExitCode.usage);
  }
  const status = httpStatus(err);
  if (status === 401 || status === 403) {
    if (!config?.apiKey) {
      return new CliError(
        'no API key: set FLOWSCALE_API_KEY (or pass --api-key, or put FLOWSCALE_API_KEY in ./.env)',
        ExitCode.auth,
      );
    }
    const from = describeSource(config.sources.apiKey, 'FLOWSCALE_API_KEY', '--api-key');
    const what = status === 403 ? 'does not allow this (an admin key is needed)' : 'rejected the API key';
    return new CliError(
      `the server at ${config.apiUrl} ${what} from ${from} (HTTP ${status}): check FLOWSCALE_API_KEY`,
      ExitCode.auth,
    );
  }
  if (status === 404) return new CliError(serverMessage(err), ExitCode.notFound);
  if (status === 400 || status === 413 || status === 422) {
    return new CliError(serverMessage(err) + detailsSuffix(err), ExitCode.usage);
  }
  if (status === 429) {
    return new CliError(
      `the server is rate limiting this key (HTTP 429: ${serverMessage(err)}); wait a moment and try again`,
      ExitCode.generic,
    );
  }
  if (isConnectionError(err)) {
    const url = config?.apiUrl ?? 'the server';
    const from = config
      ? ` (from ${describeSource(config.sources.apiUrl, 'FLOWSCALE_API_URL', '--api-url')})`
      : '';
    return new CliError(
      `cannot reach the FlowScale server at ${url}${from}: start one with "flowscale serve", or set FLOWSCALE_API_URL / --api-url`,
      ExitCode.unreachable,
    );
  }
  if (isTimeout(err)) return new CliError(serverMessage(err), ExitCode.timeout);
  return new CliError(serverMessage(err) || 'unexpected error', ExitCode.generic);
}
