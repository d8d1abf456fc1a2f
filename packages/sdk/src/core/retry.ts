import { type FlowScaleError, NetworkError, TimeoutError } from './errors';

/** Statuses worth another attempt: the request timed out, was rate limited or hit a server fault. */
export const RETRY_STATUSES = [408, 429, 500, 502, 503, 504];

/** Worth another try: no answer, or an answer that a retry may fix. */
export const isTransient = (error: unknown): boolean =>
  error instanceof NetworkError ||
  error instanceof TimeoutError ||
  RETRY_STATUSES.includes((error as FlowScaleError)?.status ?? 0);

/** A server-chosen delay is trusted only up to this cap, so a bad header cannot stall a client for hours. */
export const MAX_RETRY_AFTER_MS = 60_000;
/** Ceiling of the exponential backoff. */
export const MAX_BACKOFF_MS = 30_000;

/**
 * Parses `Retry-After` as delta-seconds or an HTTP date. Returns milliseconds, or undefined when the
 * header is absent, unparsable or out of [0, MAX_RETRY_AFTER_MS].
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value?.trim()) return undefined;
  // Number() takes delta-seconds (and, leniently, fractions); anything else is tried as an HTTP date.
  let ms = Number(value) * 1000;
  if (Number.isNaN(ms)) ms = Date.parse(value) - now;
  return Number.isNaN(ms) ? undefined : Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

/**
 * Delay before retry number `attempt` (1-based): `baseMs * 2^(attempt-1)`, capped, with "equal jitter"
 * (between half and all of it) so clients that failed together do not retry together.
 */
export function backoffDelay(attempt: number, baseMs: number, random = Math.random()): number {
  const exp = Math.min(baseMs * 2 ** (attempt - 1), MAX_BACKOFF_MS);
  return Math.round(exp / 2 + (exp / 2) * random);
}

/**
 * The delay to wait before retrying a response, or undefined when it must not be retried.
 * A server's Retry-After wins over the computed backoff, without jitter.
 */
export function retryDelayFor(status: number, retryAfter: string | null, attempt: number, baseMs: number) {
  if (!RETRY_STATUSES.includes(status)) return undefined;
  return parseRetryAfter(retryAfter) ?? backoffDelay(attempt, baseMs);
}
