import type pg from 'pg';
import type { Logger } from 'pino';

export interface LeaseOptions {
  pool: pg.Pool;
  replicaId: string;
  backendIds: readonly string[];
  /**
   * The bound on a takeover: a replica that dies has its backends taken by another within this long. A
   * lease row lives `ttlMs - renewMs` past its last renewal, and the others look every `renewMs`, so the
   * expiry plus the time until someone looks never exceeds `ttlMs`.
   */
  ttlMs: number;
  /** How often leases are renewed and free ones sought (at most a third of ttlMs, so a renewal may miss). */
  renewMs: number;
  log: Logger;
  /** This replica now owns these backends: watch them, adopt their unfinished runs. */
  onAcquired(backendIds: string[]): void;
  /** This replica no longer owns these backends: stop acting on them at once. */
  onLost(backendIds: string[]): void;
  /** Backends to hand over when replicas join: take no new runs there (false: take them again). */
  setDraining?(backendIds: string[], draining: boolean): void;
  /** Whether this replica has nothing unfinished on the backend, so it can be handed over now. */
  idle?(backendId: string): boolean;
}

/**
 * Exactly one replica at a time watches a backend's WebSocket and submits prompts to it: the one holding
 * its row in `backend_leases`. Leases are renewed every `renewMs`; a replica that dies stops renewing and
 * another takes its backends within `ttlMs`. Each replica takes at most its share of free backends (by
 * live replicas), and gives back what it holds beyond its share when replicas join, so a fleet spreads
 * over the replicas instead of piling onto the first one started.
 *
 * A replica also stops trusting its own leases when it has not renewed them within `ttlMs` by its own
 * clock (measured from before the renewal was sent), so a paused replica cannot act on a backend that
 * another replica has meanwhile taken.
 */
export class BackendLeases {
  readonly #o: LeaseOptions;
  #held = new Set<string>();
  /** Held beyond this replica's share: finishing their runs before they are given back. */
  #draining = new Set<string>();
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
    let claimed: Claimed;
    try {
      claimed = await this.#claim();
    } catch (error) {
      this.#o.log.warn({ err: error }, 'could not renew backend leases');
      if (performance.now() >= this.#validUntil) this.#drop([...this.#held]);
      return;
    }
    if (this.#stopped) return;
    this.#validUntil = sentAt + this.#lifeMs();
    const now = new Set(claimed.ids);
    this.#drop([...this.#held].filter((id) => !now.has(id)));
    const gained = [...now].filter((id) => !this.#held.has(id));
    this.#held = now;
    if (gained.length > 0) this.#o.onAcquired(gained);
    await this.#rebalance(claimed.share);
  }

  /** How long a lease row lives past a renewal: what is left of the TTL after the others' next look. */
  #lifeMs(): number {
    return Math.max(this.#o.renewMs, this.#o.ttlMs - this.#o.renewMs);
  }

  /**
   * Replicas joined since this one took its backends: it holds more than its share. The extras are the
   * last by id (the others take the first free by id, and shares are rounded up, so replicas never trade
   * a backend back and forth). Each extra first drains: it takes no new run and finishes what it has, so
   * no prompt is in flight when another replica takes it. Once idle, this replica stops acting on it (the
   * path of a lost lease) and frees its row, and a replica below its share takes it at its next look.
   */
  async #rebalance(share: number): Promise<void> {
    if (this.#stopped) return;
    const held = [...this.#held].sort();
    const extras = held.slice(Math.max(0, share));
    this.#setDraining(
      [...this.#draining].filter((id) => !extras.includes(id)),
      false,
    );
    this.#setDraining(extras, true);
    const ready = extras.filter((id) => this.#o.idle?.(id) ?? true);
    if (ready.length === 0) return;
    this.#drop(ready);
    this.#o.log.info({ backends: ready, replica: this.#o.replicaId }, 'handed backends over to rebalance');
    await this.#o.pool
      .query(
        "UPDATE backend_leases SET expires_at = now() - interval '1 second' WHERE owner = $1 AND backend_id = ANY($2)",
        [this.#o.replicaId, ready],
      )
      .catch((error: unknown) => this.#o.log.warn({ err: error }, 'could not hand backends over'));
  }

  #drop(ids: string[]): void {
    if (ids.length === 0) return;
    for (const id of ids) this.#held.delete(id);
    this.#setDraining(ids, false);
    this.#o.onLost(ids);
  }

  #setDraining(ids: string[], draining: boolean): void {
    const changed = ids.filter((id) => this.#draining.has(id) !== draining);
    if (changed.length === 0) return;
    for (const id of changed) {
      if (draining) this.#draining.add(id);
      else this.#draining.delete(id);
    }
    this.#o.setDraining?.(changed, draining);
  }

  /**
   * One round trip: heartbeat this replica, renew what it holds, and take expired or free backends up to
   * its fair share. Row locks (SKIP LOCKED) keep two replicas from taking the same free backend.
   */
  async #claim(): Promise<Claimed> {
    const { pool, replicaId, backendIds, ttlMs } = this.#o;
    const result = await pool.query<{ backend_id: string | null; share: number }>(CLAIM_SQL, [
      replicaId,
      backendIds,
      ttlMs,
      this.#lifeMs(),
    ]);
    const ids = result.rows.flatMap((row) => (row.backend_id === null ? [] : [row.backend_id]));
    return { ids, share: result.rows[0]?.share ?? backendIds.length };
  }
}

interface Claimed {
  ids: string[];
  /** This replica's fair share of the fleet, by the replicas seen alive within the TTL. */
  share: number;
}

/** Every configured backend has a lease row, free at first, so claiming is always an UPDATE. */
const SEED_SQL = `INSERT INTO backend_leases (backend_id, owner, expires_at)
SELECT b, '', now() - interval '1 second' FROM unnest($1::text[]) AS b
ON CONFLICT (backend_id) DO NOTHING`;

// $1 replica id, $2 configured backend ids, $3 ttl in ms (replica liveness), $4 lease life in ms.
// Always one row at least (a LEFT JOIN on the share), so the share arrives even when nothing is held.
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
), claimed AS (
  UPDATE backend_leases SET owner = $1, expires_at = now() + ($4 || ' milliseconds')::interval,
    epoch = CASE WHEN backend_leases.owner = $1 THEN epoch ELSE epoch + 1 END
  WHERE backend_id = ANY($2)
    AND ((owner = $1 AND expires_at > now()) OR backend_id IN (SELECT backend_id FROM free))
  RETURNING backend_id
)
SELECT claimed.backend_id, share.n AS share FROM share LEFT JOIN claimed ON true
ORDER BY claimed.backend_id`;

export const LEASE_TABLES_SQL = `
CREATE TABLE IF NOT EXISTS replicas (id text PRIMARY KEY, seen_at timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS backend_leases (
  backend_id text PRIMARY KEY,
  owner text NOT NULL,
  expires_at timestamptz NOT NULL,
  epoch bigint NOT NULL DEFAULT 0
);`;
