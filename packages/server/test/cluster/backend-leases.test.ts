import pg from 'pg';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BackendLeases, LEASE_TABLES_SQL } from '../../src/cluster/backend-leases';
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

function replica(id: string, backendIds: string[], ttlMs = 600): Replica {
  const owned = new Set<string>();
  const events: string[] = [];
  const leases = new BackendLeases({
    pool,
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
  it('two replicas split the fleet, never both own a backend, and one takes all when the other goes', async () => {
    await pool.query('TRUNCATE backend_leases, replicas');
    const one = replica('r1', BACKENDS);
    const two = replica('r2', BACKENDS);
    await one.leases.start();
    await two.leases.start();
    // r1 took everything before r2 existed; nothing is released voluntarily, so r2 waits for free ones.
    expect(one.owned.size + two.owned.size).toBe(4);
    for (const backend of BACKENDS) expect(one.owned.has(backend) && two.owned.has(backend)).toBe(false);

    await one.leases.stop(); // gives its leases back at once
    await waitFor(
      async () => two.owned.size,
      (size) => size === 4,
      5000,
    );
    expect(two.leases.held().sort()).toEqual([...BACKENDS].sort());
    await two.leases.stop();
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
