import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RATE_USAGE_TABLE_SQL, SharedRateLimiter } from '../../src/limits/shared-rate-limit';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

const log = pino({ level: 'silent' });
let database: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  database = await createTestDatabase('ratelimit');
  pool = new pg.Pool({ connectionString: database.url, max: 4 });
  await pool.query(RATE_USAGE_TABLE_SQL);
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

const takeMany = (limiter: SharedRateLimiter, key: string, n: number, now: number): number => {
  let allowed = 0;
  for (let i = 0; i < n; i++) if (limiter.take(key, now) === 0) allowed++;
  return allowed;
};

describe('rate limit shared by replicas through Postgres', () => {
  it('two replicas together admit the limit, not twice it, once they have synced', async () => {
    const limit = { requests: 40, windowMs: 3_600_000 };
    const a = new SharedRateLimiter(limit, pool, log, 60_000);
    const b = new SharedRateLimiter(limit, pool, log, 60_000);
    // Early in a window, so the previous window (empty) does not matter.
    const now = Math.floor(Date.now() / limit.windowMs) * limit.windowMs + 1000;
    expect(takeMany(a, 'key-1', 25, now)).toBe(25);
    expect(takeMany(b, 'key-1', 1, now)).toBe(1); // b has not heard of a's 25 yet
    await a.sync();
    await b.sync();
    expect(takeMany(b, 'key-1', 30, now)).toBe(14); // 40 - 25 - 1
    const wait = b.take('key-1', now);
    expect(wait).toBeGreaterThan(0);
    await b.sync();
    await a.sync();
    expect(takeMany(a, 'key-1', 5, now)).toBe(0);
    // Another key has its own budget.
    expect(takeMany(a, 'key-2', 5, now)).toBe(5);
    await a.stop();
    await b.stop();
  });

  it('the previous window still counts while it overlaps the sliding window', async () => {
    const limit = { requests: 10, windowMs: 60_000 };
    const a = new SharedRateLimiter(limit, pool, log, 60_000);
    const start = (Math.floor(Date.now() / limit.windowMs) - 2) * limit.windowMs;
    expect(takeMany(a, 'slide', 10, start + 59_000)).toBe(10);
    await a.sync(start + 59_500); // recorded in window w
    // A quarter into window w+1, three quarters of window w still overlap: 7.5 of 10 used.
    expect(takeMany(a, 'slide', 10, start + 60_000 + 15_000)).toBe(2);
    await a.stop();
  });
});
