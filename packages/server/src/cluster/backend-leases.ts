import type pg from 'pg';
import type { Logger } from 'pino';

export interface LeaseOptions {
  pool: pg.Pool;
  replicaId: string;
  backendIds: readonly string[];
  /** A lease not renewed for this long may be taken by another replica. */
  ttlMs: number;
  /** How often leases are renewed and free ones sought (well under ttlMs). */
  renewMs: number;
  log: Logger;
  /** This replica now owns these backends: watch them, adopt their unfinished runs. */
  onAcquired(backendIds: string[]): void;
  /** This replica no longer owns these backends: stop acting on them at once. */
  onLost(backendIds: string[]): void;
}

/**
 * Exactly one replica at a time watches a backend's WebSocket and submits prompts to it: the one holding
 * its row in `backend_leases`. Leases are renewed every `renewMs`; a replica that dies stops renewing and
 * another takes its backends once `ttlMs` has passed. Each replica takes at most its share of free
 * backends (by live replicas), so a fleet spreads over the replicas instead of piling onto the first.
 *
 * A replica also stops trusting its own leases when it has not renewed them within `ttlMs` by its own
 * clock (measured from before the renewal was sent), so a paused replica cannot act on a backend that
 * another replica has meanwhile taken.
 */
export class BackendLeases {
  readonly #o: LeaseOptions;
  #held = new Set<string>();
  #validUntil = 0;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  #stopped = false;

  constructor(options: LeaseOptions) {
    this.#o = options;
  }

  /** Whether this replica may act on the backend now. */
  holds(backendId: string): boolean {
    return this.#held.has(backendId) && performance.now() < this.#validUntil;
  }

  held(): string[] {
    return [...this.#held];
  }

  async start(): Promise<void> {
    await this.#o.pool.query(SEED_SQL, [this.#o.backendIds]);
    await this.tick();
    this.#timer = setInterval(() => void this.tick(), this.#o.renewMs);
    this.#timer.unref();
  }

  /** Gives every lease back, so another replica can take over without waiting for the TTL. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#ticking;
    const held = [...this.#held];
    this.#held.clear();
    if (held.length > 0) this.#o.onLost(held);
    await this.#o.pool
      .query("UPDATE backend_leases SET expires_at = now() - interval '1 second' WHERE owner = $1", [
        this.#o.replicaId,
      ])
      .catch(() => undefined);
    await this.#o.pool
      .query('DELETE FROM replicas WHERE id = $1', [this.#o.replicaId])
      .catch(() => undefined);
  }

  tick(): Promise<void> {
    this.#ticking ??= this.#renew().finally(() => {
      this.#ticking = undefined;
    });
    return this.#ticking;
  }

  async #renew(): Promise<void> {
    if (this.#stopped) return;
    const sentAt = performance.now();
    let rows: Array<{ backend_id: string }>;
    try {
      rows = await this.#claim();
    } catch (error) {
      this.#o.log.warn({ err: error }, 'could not renew backend leases');
      if (performance.now() >= this.#validUntil) this.#drop([...this.#held]);
      return;
    }
    if (this.#stopped) return;
    this.#validUntil = sentAt + this.#o.ttlMs;
    const now = new Set(rows.map((row) => row.backend_id));
    this.#drop([...this.#held].filter((id) => !now.has(id)));
    const gained = [...now].filter((id) => !this.#held.has(id));
    this.#held = now;
    if (gained.length > 0) this.#o.onAcquired(gained);
  }

  #drop(ids: string[]): void {
    if (ids.length === 0) return;
    for (const id of ids) this.#held.delete(id);
    this.#o.onLost(ids);
  }

  /**
   * One round trip: heartbeat this replica, renew what it holds, and take expired or free backends up to
   * its fair share. Row locks (SKIP LOCKED) keep two replicas from taking the same free backend.
   */
  async #claim(): Promise<Array<{ backend_id: string }>> {
    const { pool, replicaId, backendIds, ttlMs } = this.#o;
    const result = await pool.query<{ backend_id: string }>(CLAIM_SQL, [replicaId, backendIds, ttlMs]);
    return result.rows;
  }
}

/** Every configured backend has a lease row, free at first, so claiming is always an UPDATE. */
const SEED_SQL = `INSERT INTO backend_leases (backend_id, owner, expires_at)
SELECT b, '', now() - interval '1 second' FROM unnest($1::text[]) AS b
ON CONFLICT (backend_id) DO NOTHING`;

// $1 replica id, $2 configured backend ids, $3 ttl in ms.
const CLAIM_SQL = `
WITH heartbeat AS (
  INSERT INTO replicas (id, seen_at) VALUES ($1, now())
  ON CONFLICT (id) DO UPDATE SET seen_at = now()
  RETURNING id
), live AS (
  SELECT greatest(1, count(*)) AS n FROM replicas
  WHERE seen_at > now() - ($3 || ' milliseconds')::interval OR id = $1
), share AS (
  SELECT ceil(cardinality($2::text[])::numeric / (SELECT n FROM live))::int AS n
), mine AS (
  SELECT count(*)::int AS n FROM backend_leases
  WHERE owner = $1 AND backend_id = ANY($2) AND expires_at > now()
), free AS (
  SELECT backend_id FROM backend_leases
  WHERE backend_id = ANY($2) AND expires_at <= now()
  ORDER BY backend_id
  LIMIT greatest(0, (SELECT n FROM share) - (SELECT n FROM mine))
  FOR UPDATE SKIP LOCKED
)
UPDATE backend_leases SET owner = $1, expires_at = now() + ($3 || ' milliseconds')::interval,
  epoch = CASE WHEN backend_leases.owner = $1 THEN epoch ELSE epoch + 1 END
WHERE backend_id = ANY($2)
  AND ((owner = $1 AND expires_at > now()) OR backend_id IN (SELECT backend_id FROM free))
RETURNING backend_id`;

export const LEASE_TABLES_SQL = `
CREATE TABLE IF NOT EXISTS replicas (id text PRIMARY KEY, seen_at timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS backend_leases (
  backend_id text PRIMARY KEY,
  owner text NOT NULL,
  expires_at timestamptz NOT NULL,
  epoch bigint NOT NULL DEFAULT 0
);`;
