import type pg from 'pg';
import type { Logger } from 'pino';
import type { RateLimit } from './rate-limit';

interface KeyUsage {
  /** Requests counted by every replica in the current and previous windows, as of the last sync. */
  shared: { window: number; current: number; previous: number };
  /** Requests this replica admitted since its last sync, not yet in `shared`. */
  unsynced: number;
}

/**
 * A per-key rate limit that holds across replicas: each replica admits against the fleet's count as of
 * its last sync plus what it admitted since, and syncs every `syncMs` in one statement for all keys. The
 * count is a sliding window estimated from two fixed windows (the previous one weighted by how much of it
 * still overlaps), so a client cannot double its rate at a window boundary. Between syncs the replicas
 * can overshoot by at most what each admits in `syncMs`.
 */
export class SharedRateLimiter {
  readonly #limit: RateLimit;
  readonly #db: pg.Pool;
  readonly #log: Logger;
  readonly #usage = new Map<string, KeyUsage>();
  #timer: NodeJS.Timeout | undefined;
  #syncing: Promise<void> | undefined;
  #prunedWindow = 0;

  constructor(limit: RateLimit, db: pg.Pool, log: Logger, syncMs = 100) {
    this.#limit = limit;
    this.#db = db;
    this.#log = log;
    this.#timer = setInterval(() => void this.sync(), syncMs);
    this.#timer.unref();
  }

  /** 0 when the request may go ahead (and counts it), else how many ms until it may. */
  take(key: string, now = Date.now()): number {
    const { requests, windowMs } = this.#limit;
    const window = Math.floor(now / windowMs);
    const usage = this.#usage.get(key) ?? { shared: { window, current: 0, previous: 0 }, unsynced: 0 };
    this.#usage.set(key, usage);
    const { current, previous } = this.#counts(usage.shared, window);
    const overlap = 1 - (now - window * windowMs) / windowMs;
    const used = previous * overlap + current + usage.unsynced;
    if (used + 1 <= requests) {
      usage.unsynced++;
      return 0;
    }
    // Wait until enough of the previous window has slid out (or the next window starts).
    const excess = used + 1 - requests;
    const waitMs = previous > 0 ? (excess / previous) * windowMs : (window + 1) * windowMs - now;
    return Math.max(1, Math.min(Math.ceil(waitMs), (window + 1) * windowMs - now));
  }

  /** Pushes this replica's admissions and pulls the fleet's counts, in one round trip. */
  sync(now = Date.now()): Promise<void> {
    this.#syncing ??= this.#sync(now).finally(() => {
      this.#syncing = undefined;
    });
    return this.#syncing;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.sync();
  }

  #counts(shared: KeyUsage['shared'], window: number): { current: number; previous: number } {
    if (shared.window === window) return shared;
    if (shared.window === window - 1) return { current: 0, previous: shared.current };
    return { current: 0, previous: 0 };
  }

  async #sync(now: number): Promise<void> {
    if (this.#usage.size === 0) return;
    const window = Math.floor(now / this.#limit.windowMs);
    const keys = [...this.#usage.keys()];
    const sent = keys.map((key) => this.#usage.get(key)!.unsynced);
    try {
      const result = await this.#db.query<{ key_id: string; window: string; count: string }>(SYNC_SQL, [
        keys,
        sent,
        window,
      ]);
      for (const [index, key] of keys.entries()) {
        const usage = this.#usage.get(key)!;
        usage.unsynced -= sent[index]!;
        usage.shared = { window, current: 0, previous: 0 };
      }
      for (const row of result.rows) {
        const usage = this.#usage.get(row.key_id);
        if (!usage) continue;
        if (Number(row.window) === window) usage.shared.current = Number(row.count);
        else usage.shared.previous = Number(row.count);
      }
      if (window > this.#prunedWindow) {
        this.#prunedWindow = window;
        await this.#db.query('DELETE FROM rate_usage WHERE window_no < $1', [window - 1]);
      }
      // Keys quiet for two whole windows count nothing: forget them.
      for (const [key, usage] of this.#usage)
        if (usage.unsynced === 0 && usage.shared.current + usage.shared.previous === 0)
          this.#usage.delete(key);
    } catch (error) {
      this.#log.warn({ err: error }, 'could not sync rate limits; counting locally until it works');
    }
  }
}

// $1 key ids, $2 requests admitted since the last sync, $3 current window number.
const SYNC_SQL = `
WITH added AS (
  INSERT INTO rate_usage (key_id, window_no, count)
  SELECT k, $3, n FROM unnest($1::text[], $2::int[]) AS t(k, n) WHERE n > 0
  ON CONFLICT (key_id, window_no) DO UPDATE SET count = rate_usage.count + excluded.count
  RETURNING key_id, window_no, count
)
SELECT key_id, window_no AS window, count FROM added
UNION ALL
SELECT key_id, window_no, count FROM rate_usage
WHERE key_id = ANY($1) AND window_no IN ($3, $3 - 1)
  AND NOT EXISTS (SELECT 1 FROM added a WHERE a.key_id = rate_usage.key_id AND a.window_no = rate_usage.window_no)`;

export const RATE_USAGE_TABLE_SQL = `
CREATE TABLE IF NOT EXISTS rate_usage (
  key_id text NOT NULL,
  window_no bigint NOT NULL,
  count integer NOT NULL,
  PRIMARY KEY (key_id, window_no)
);`;
