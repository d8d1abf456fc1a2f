export interface RateLimitOptions {
  /** Requests a caller may make per window. */
  limit: number;
  windowMs: number;
}

export interface RateLimiter {
  /** Takes one request from the caller's budget; returns the seconds to wait when there is none left. */
  take(callerId: string, now?: number): { ok: true } | { ok: false; retryAfterSeconds: number };
}

interface Bucket {
  tokens: number;
  updated: number;
}

/**
 * A token bucket per caller: a burst of `limit` requests, refilled evenly over `windowMs`. Idle full
 * buckets are dropped so memory stays bounded by the number of active callers.
 */
export function createRateLimiter({ limit, windowMs }: RateLimitOptions): RateLimiter {
  if (!(limit > 0) || !(windowMs > 0)) throw new TypeError('rateLimit needs a positive limit and windowMs');
  const perMs = limit / windowMs;
  const buckets = new Map<string, Bucket>();
  let lastSweep = 0;

  const sweep = (now: number) => {
    if (now - lastSweep < windowMs) return;
    lastSweep = now;
    for (const [id, b] of buckets) if (b.tokens + (now - b.updated) * perMs >= limit) buckets.delete(id);
  };

  return {
    take(callerId, now = Date.now()) {
      sweep(now);
      const bucket = buckets.get(callerId) ?? { tokens: limit, updated: now };
      bucket.tokens = Math.min(limit, bucket.tokens + (now - bucket.updated) * perMs);
      bucket.updated = now;
      buckets.set(callerId, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { ok: true };
      }
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000)) };
    },
  };
}
