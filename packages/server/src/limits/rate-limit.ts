/** `N/unit`, e.g. `600/min`: N requests per window, also the burst size. */
export interface RateLimit {
  requests: number;
  windowMs: number;
}

const UNIT_MS: Record<string, number> = {
  s: 1000,
  sec: 1000,
  second: 1000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
};

/** Parses `"600/min"`, `"10/s"`, `"5000/hour"`; `"0"` (or `0`) means off and returns null. */
export function parseRateLimit(value: string | number): RateLimit | null {
  const text = String(value).trim();
  if (text === '0' || text === 'off') return null;
  const match = /^(\d+)\s*\/\s*([a-z]+)$/i.exec(text);
  const unit = match ? UNIT_MS[(match[2] as string).toLowerCase()] : undefined;
  const requests = match ? Number(match[1]) : Number.NaN;
  if (!match || unit === undefined || !Number.isSafeInteger(requests)) {
    throw new Error(`Invalid rate limit "${text}": expected N/s, N/min or N/hour (or 0 for off)`);
  }
  return requests === 0 ? null : { requests, windowMs: unit };
}

interface Bucket {
  tokens: number;
  refilledAt: number;
}

/**
 * One token bucket per API key, in memory: a bucket holds up to `requests` tokens (the burst) and refills
 * continuously at `requests` per window. A process restart forgets the buckets, which only ever errs on
 * the side of letting a client through.
 */
export class RateLimiter {
  readonly #limit: RateLimit;
  readonly #buckets = new Map<string, Bucket>();
  #sweptAt = 0;

  constructor(limit: RateLimit) {
    this.#limit = limit;
  }

  /** Takes a token for `key`: 0 when allowed, otherwise how many ms until the next token. */
  take(key: string, now = Date.now()): number {
    this.#sweep(now);
    const { requests, windowMs } = this.#limit;
    const perMs = requests / windowMs;
    const bucket = this.#buckets.get(key) ?? { tokens: requests, refilledAt: now };
    bucket.tokens = Math.min(requests, bucket.tokens + (now - bucket.refilledAt) * perMs);
    bucket.refilledAt = now;
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / perMs);
  }

  /** Buckets idle for a whole window are full again and identical to a fresh one: drop them. */
  #sweep(now: number): void {
    if (now - this.#sweptAt < this.#limit.windowMs) return;
    this.#sweptAt = now;
    for (const [key, bucket] of this.#buckets) {
      if (now - bucket.refilledAt >= this.#limit.windowMs) this.#buckets.delete(key);
    }
  }
}
