import pg from 'pg';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BackendLeases, LEASE_TABLES_SQL, type LeaseOptions } from '../../src/cluster/backend-leases';
import { waitFor } from '../support/harness';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

const log = pino({ level: 'silent' });
let database: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  database = await createTestDatabase('leases');
  pool = new pg.Pool({ connectionString: database.url, max: 4 });
  await pool.query(LEASE_TABLES_SQL);
});

const started: Replica[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((r) => r.leases.stop()));
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

interface Replica {
  leases: BackendLeases;
  owned: Set<string>;
  events: string[];
}

function replica(
  id: string,
  backendIds: string[],
  ttlMs = 600,
  extra: Pick<LeaseOptions, 'idle' | 'setDraining'> = {},
  ownPool: pg.Pool = pool,
): Replica {
  const owned = new Set<string>();
  const events: string[] = [];
  const leases = new BackendLeases({
    ...extra,
    pool: ownPool,
    replicaId: id,
    backendIds,
    ttlMs,
    renewMs: ttlMs / 4,
    log,
    onAcquired: (ids) => {
      for (const backend of ids) owned.add(backend);
      events.push(`+${ids.join(',')}`);
    },
    onLost: (ids) => {
      for (const backend of ids) owned.delete(backend);
      events.push(`-${ids.join(',')}`);
    },
  });
  const made = { leases, owned, events };
  started.push(made);
  return made;
}

const BACKENDS = ['http://a', 'http://b', 'http://c', 'http://d'];

describe('backend leases on a real Postgres', () => {
  it('a replica that joins gets its share: the first hands over its extras, and no backend has two owners', async () => {
    await pool.query('TRUNCATE backend_leases, replicas');
    const one = replica('r1', BACKENDS);
    await one.leases.start();
    expect(one.owned.size).toBe(4); // alone: it takes the whole fleet
    const two = replica('r2', BACKENDS);
    const overlaps: string[] = [];
    const watch = setInterval(() => {
      for (const backend of BACKENDS)
        if (one.owned.has(backend) && two.owned.has(backend)) overlaps.push(backend);
    }, 5);
    await two.leases.start();
    await waitFor(
      async () => [one.owned.size, two.owned.size].join('/'),
      (sizes) => sizes === '2/2',
      5000,
    );
    clearInterval(watch);
    expect(overlaps).toEqual([]);
    // The last by id go to the newcomer, and each change of owner is a new epoch.
    expect(one.leases.held().sort()).toEqual(['http://a', 'http://b']);
    expect(two.leases.held().sort()).toEqual(['http://c', 'http://d']);
    const { rows } = await pool.query(
      'SELECT backend_id, owner, epoch FROM backend_leases ORDER BY backend_id',
    );
    expect(rows.map((row) => `${row.owner}:${row.epoch}`)).toEqual(['r1:1', 'r1:1', 'r2:2', 'r2:2']);

    await one.leases.stop(); // gives its leases back at once
    await waitFor(
      async () => two.owned.size,
      (size) => size === 4,
      5000,
    );
    expect(two.leases.held().sort()).toEqual([...BACKENDS].sort());
    await two.leases.stop();
  });

  it('a backend with unfinished runs is handed over only once they are done, taking no new run meanwhile', async () => {
    await pool.query('TRUNCATE backend_leases, replicas');
    const busy = new Set(['http://c', 'http://d']);
    const draining = new Set<string>();
    const one = replica('b1', BACKENDS, 600, {
      idle: (id) => !busy.has(id),
      setDraining: (ids, on) => {
        for (const id of ids) on ? draining.add(id) : draining.delete(id);
      },
    });
    await one.leases.start();
    const two = replica('b2', BACKENDS);
    await two.leases.start();
    await waitFor(
      async () => [...draining].sort().join(','),
      (ids) => ids === 'http://c,http://d',
      5000,
    );
    await new Promise((resolve) => setTimeout(resolve, 700)); // more than a TTL: still b1's, still draining
    expect(one.owned.size).toBe(4);
    expect(two.owned.size).toBe(0);
    busy.delete('http://d');
    await waitFor(
      async () => two.leases.held().join(','),
      (ids) => ids === 'http://d',
      5000,
    );
    expect(one.owned.has('http://d')).toBe(false);
    expect([...draining]).toEqual(['http://c']); // handed over: no longer marked
    busy.clear();
    await waitFor(
      async () => two.owned.size,
      (size) => size === 2,
      5000,
    );
    expect(draining.size).toBe(0);
  });

  it('a replica that dies is replaced within the TTL, whenever in its renewal cycle it died', async () => {
    await pool.query('TRUNCATE backend_leases, replicas');
    const ttlMs = 1000;
    const ownPool = new pg.Pool({ connectionString: database.url, max: 1 });
    const victim = replica('v', BACKENDS.slice(0, 2), ttlMs, {}, ownPool);
    await victim.leases.start();
    const heir = replica('h', BACKENDS.slice(0, 2), ttlMs);
    await heir.leases.start();
    await waitFor(
      async () => heir.owned.size,
      (size) => size === 1, // its share of two, handed over by the victim
      5000,
    );
    // Stop the victim's renewals the way kill -9 would: its database connection goes, nothing is given back.
    await new Promise((resolve) => setTimeout(resolve, 137));
    const killedAt = performance.now();
    await ownPool.end();
    await waitFor(
      async () => heir.owned.size,
      (size) => size === 2,
      5000,
    );
    const tookMs = performance.now() - killedAt;
    expect(tookMs).toBeLessThanOrEqual(ttlMs + 100); // the bound, plus a round trip's slack
  });

  it('replicas that start together take a fair share each', async () => {
    await pool.query('TRUNCATE backend_leases, replicas');
    // Both heartbeat before either claims: seed the replica rows so each sees two live replicas.
    await pool.query("INSERT INTO replicas (id, seen_at) VALUES ('s1', now()), ('s2', now())");
    const one = replica('s1', BACKENDS);
    const two = replica('s2', BACKENDS);
    await Promise.all([one.leases.start(), two.leases.start()]);
    await waitFor(
      async () => one.owned.size + two.owned.size,
      (n) => n === 4,
      5000,
    );
    expect(one.owned.size).toBe(2);
    expect(two.owned.size).toBe(2);
    await Promise.all([one.leases.stop(), two.leases.stop()]);
  });

  it('a replica that stops renewing (killed) loses its backends to another within the TTL', async () => {
    await pool.query('TRUNCATE backend_leases, replicas');
    // What a kill -9 leaves: leases owned by a replica that no longer heartbeats or renews.
    await pool.query(
      `INSERT INTO backend_leases (backend_id, owner, expires_at, epoch)
       SELECT b, 'dead', now() + interval '600 milliseconds', 1 FROM unnest($1::text[]) AS b`,
      [BACKENDS.slice(0, 2)],
    );
    const survivor = replica('alive', BACKENDS.slice(0, 2), 600);
    const startedAt = Date.now();
    await survivor.leases.start();
    expect(survivor.owned.size).toBe(0); // still the dead one's
    await waitFor(
      async () => survivor.owned.size,
      (size) => size === 2,
      5000,
    );
    const tookMs = Date.now() - startedAt;
    expect(tookMs).toBeGreaterThanOrEqual(500);
    const rows = await pool.query("SELECT epoch FROM backend_leases WHERE owner = 'alive'");
    expect(rows.rows.map((row) => Number(row.epoch))).toEqual([2, 2]); // taken over: a new epoch
    await survivor.leases.stop();
  });
});
