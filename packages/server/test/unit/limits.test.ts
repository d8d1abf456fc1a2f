import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config';
import { QueueAdmission } from '../../src/limits/admission';
import { parseRateLimit, RateLimiter } from '../../src/limits/rate-limit';

describe('rate limit parsing', () => {
  it('reads N/unit, treats 0 as off and rejects anything else', () => {
    expect(parseRateLimit('600/min')).toEqual({ requests: 600, windowMs: 60_000 });
    expect(parseRateLimit('10/s')).toEqual({ requests: 10, windowMs: 1000 });
    expect(parseRateLimit(' 5000 / hour ')).toEqual({ requests: 5000, windowMs: 3_600_000 });
    expect(parseRateLimit('0')).toBeNull();
    expect(parseRateLimit(0)).toBeNull();
    expect(parseRateLimit('0/min')).toBeNull();
    for (const bad of ['600', '600/fortnight', 'ten/min', '-1/s', '1.5/s'])
      expect(() => parseRateLimit(bad), bad).toThrow(/Invalid rate limit/);
  });

  it('comes from FLOWSCALE_RATE_LIMIT / FLOWSCALE_MAX_QUEUED_RUNS, options winning, with generous defaults', () => {
    expect(resolveConfig({}, {}).rateLimit).toEqual({ requests: 6000, windowMs: 60_000 });
    expect(resolveConfig({}, {}).maxQueuedRuns).toBe(10_000);
    const env = { FLOWSCALE_RATE_LIMIT: '600/min', FLOWSCALE_MAX_QUEUED_RUNS: '5' };
    expect(resolveConfig({}, env)).toMatchObject({
      rateLimit: { requests: 600, windowMs: 60_000 },
      maxQueuedRuns: 5,
    });
    expect(resolveConfig({ rateLimit: 0, maxQueuedRuns: 0 }, env)).toMatchObject({
      rateLimit: null,
      maxQueuedRuns: 0,
    });
    expect(() => resolveConfig({}, { FLOWSCALE_MAX_QUEUED_RUNS: '-3' })).toThrow(/max queued runs/);
    // Not a limit, but configured the same way: private URL fetching only on an explicit "true".
    expect(resolveConfig({}, {}).allowPrivateUrls).toBe(false);
    expect(resolveConfig({}, { FLOWSCALE_ALLOW_PRIVATE_URLS: '1' }).allowPrivateUrls).toBe(false);
    expect(resolveConfig({}, { FLOWSCALE_ALLOW_PRIVATE_URLS: 'TRUE' }).allowPrivateUrls).toBe(true);
    expect(resolveConfig({}, {}).retentionDays).toBe(0);
    expect(resolveConfig({}, { FLOWSCALE_RETENTION_DAYS: '30' }).retentionDays).toBe(30);
    expect(() => resolveConfig({}, { FLOWSCALE_RETENTION_DAYS: '-1' })).toThrow(/retention days/);
  });
});

describe('token bucket', () => {
  it('allows a burst of N, then one token per window/N, per key', () => {
    const limiter = new RateLimiter({ requests: 3, windowMs: 3000 });
    const t = 1_000_000;
    expect([limiter.take('a', t), limiter.take('a', t), limiter.take('a', t)]).toEqual([0, 0, 0]);
    expect(limiter.take('a', t)).toBe(1000);
    expect(limiter.take('a', t + 400)).toBe(600);
    expect(limiter.take('b', t + 400), 'other keys have their own bucket').toBe(0);
    expect(limiter.take('a', t + 1000)).toBe(0);
    expect(limiter.take('a', t + 1000)).toBe(1000);
    // Idle for long: full again, but never more than the burst.
    expect([0, 1, 2, 3].map(() => limiter.take('a', t + 60_000))).toEqual([0, 0, 0, 1000]);
  });
});

describe('queue admission', () => {
  it('counts reservations with queued runs; 0 admits everything', () => {
    let queued = 1;
    const admission = new QueueAdmission(2, () => queued);
    const release = admission.reserve();
    expect(() => admission.reserve()).toThrow(/queue is full/);
    release();
    release(); // idempotent
    const again = admission.reserve();
    queued = 2;
    again();
    expect(() => admission.reserve()).toThrowError(
      expect.objectContaining({ statusCode: 429, code: 'QUEUE_FULL' }),
    );
    const open = new QueueAdmission(0, () => 1e9);
    expect(typeof open.reserve()).toBe('function');
  });
});
