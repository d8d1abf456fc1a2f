import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Backend, BackendConfig, BackendPool, PoolListener } from '../backends/backend-pool';
import type { ComfyMessage } from '../backends/comfy-types';
import type { ServerConfig } from '../config/config';
import type { RateLimit } from '../limits/rate-limit';
import { SharedRateLimiter } from '../limits/shared-rate-limit';
import { EVERY_PROJECT } from '../projects/scope';
import type { RunQueue, RunService } from '../runs/run-service';
import { guardPoolErrors } from '../storage/postgres/connection';
import type { RunPriority } from '../storage/records';
import type { SqlExecutor } from '../storage/stores';
import { BackendLeases } from './backend-leases';
import { DispatchQueue, type ListenTo } from './dispatch-queue';
import { FleetReach, REACH, UNREACH } from './fleet-reach';

const CONTROL_CHANNEL = 'flowscale_control';

export interface ClusterOptions {
  connectionString: string;
  backendIds: readonly string[];
  log: Logger;
  /** A dead replica's backends (and their runs) are taken over after this long. */
  leaseTtlMs: number;
  /** Unfinished runs a replica keeps on one backend; the rest wait in the queue for any replica. */
  maxRunsPerBackend: number;
  /** Fallback poll of the queue when no NOTIFY arrives. */
  queuePollMs: number;
  /** The per-key request rate, counted across replicas; null turns it off. */
  rateLimit: RateLimit | null;
  /** The replica's one LISTEN session (the event relay's), for the queue's and the control doorbells. */
  listen: ListenTo;
}

/** How often the fleet-wide count of queued runs (for the queue cap) is refreshed. */
const QUEUED_COUNT_EVERY_MS = 250;
/** How often replicas with a connected backend say so, and the sweeper looks at the queue. */
const REACH_EVERY_MS = 500;

/**
 * One replica's part in a fleet of replicas sharing a Postgres: it leases backends, watches only those,
 * takes queued runs for them, and answers other replicas' requests about runs it owns. Alone with SQLite
 * none of this exists; the run service then places every run itself.
 */
export class Cluster implements RunQueue {
  readonly replicaId = randomUUID();
  readonly #o: ClusterOptions;
  readonly #db: pg.Pool;
  readonly #queue: DispatchQueue;
  #leases: BackendLeases | undefined;
  #runs: RunService | undefined;
  #pool: BackendPool | undefined;
  #queued = 0;
  #queuedTimer: NodeJS.Timeout | undefined;
  readonly #reach: FleetReach;
  #sweepTimer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;
  /** The sweeper is whichever replica holds this backend's lease: one at a time, and always one. */
  readonly #sweeperBackend: string | undefined;
  /** Per-key request rate shared by every replica (undefined when rate limiting is off). */
  readonly rateLimiter: SharedRateLimiter | undefined;

  constructor(options: ClusterOptions) {
    this.#o = options;
    this.#db = new pg.Pool({
      connectionString: options.connectionString,
      max: 3,
      application_name: 'flowscale-cluster',
    });
    guardPoolErrors(this.#db, (error) =>
      options.log.warn({ err: error }, 'cluster database connection error'),
    );
    this.#queue = new DispatchQueue({
      connectionString: options.connectionString,
      listen: (channel, onNotice, onListening) => options.listen(channel, onNotice, onListening),
      log: options.log,
      capacity: () => this.#pool?.capacity(options.maxRunsPerBackend) ?? 0,
      take: (runId) => this.#runs?.take(runId) ?? Promise.resolve(false),
      pollMs: options.queuePollMs,
    });
    this.rateLimiter = options.rateLimit
      ? new SharedRateLimiter(options.rateLimit, this.#db, options.log)
      : undefined;
    this.#reach = new FleetReach({
      replicaId: this.replicaId,
      everyMs: REACH_EVERY_MS,
      local: () => this.#pool?.reachable() ?? false,
      notify: async (payload) => {
        await this.#db.query('SELECT pg_notify($1, $2)', [CONTROL_CHANNEL, payload]);
      },
    });
    this.#sweeperBackend = [...options.backendIds].sort()[0];
  }

  /** False only when no replica has a backend connected (a queued run then says it waits for one). */
  reachableAnywhere(): boolean {
    return this.#reach.anywhere();
  }

  /** Runs waiting for a backend across the fleet, as of the last refresh (the queue cap counts these). */
  queuedCount(): number {
    return this.#queued;
  }

  /** Wraps the run service's pool listener so a backend coming up also wakes the queue. */
  poolListener(runs: RunService): PoolListener {
    return {
      onMessage: (backend: Backend, message: ComfyMessage) => runs.onMessage(backend, message),
      onConnected: (backend: Backend) => {
        runs.onConnected(backend);
        this.#reach.changed();
        this.#queue.wake();
      },
      onDown: (backend: Backend) => {
        runs.onDown(backend);
        this.#reach.changed();
      },
    };
  }

  async start(runs: RunService, pool: BackendPool): Promise<void> {
    this.#runs = runs;
    this.#pool = pool;
    await this.#o.listen(
      CONTROL_CHANNEL,
      (payload) => this.#control(payload),
      () => undefined,
    );
    await this.#queue.start();
    this.#leases = new BackendLeases({
      pool: this.#db,
      replicaId: this.replicaId,
      backendIds: this.#o.backendIds,
      ttlMs: this.#o.leaseTtlMs,
      renewMs: Math.max(250, Math.floor(this.#o.leaseTtlMs / 4)),
      log: this.#o.log,
      onAcquired: (ids) => {
        this.#o.log.info({ backends: ids, replica: this.replicaId }, 'took over backends');
        pool.watch(ids);
        void runs
          .adopt(ids)
          .catch((error: unknown) => this.#o.log.error({ err: error }, 'adopting runs failed'));
      },
      onLost: (ids) => {
        this.#o.log.warn({ backends: ids, replica: this.replicaId }, 'lost backend leases');
        pool.unwatch(ids);
        runs.release(ids);
      },
      setDraining: (ids, draining) => pool.setDraining(ids, draining),
      idle: (id) => (pool.get(id)?.assigned ?? 0) === 0,
    });
    await this.#leases.start();
    await this.#refreshQueued();
    this.#queuedTimer = setInterval(() => void this.#refreshQueued(), QUEUED_COUNT_EVERY_MS);
    this.#queuedTimer.unref();
    this.#reach.start(await this.#alone());
    this.#sweepTimer = setInterval(() => this.#sweep(), REACH_EVERY_MS);
    this.#sweepTimer.unref();
  }

  /**
   * No replica takes runs from the queue while none has a backend, so none would say why they wait or
   * end them at FLOWSCALE_QUEUE_TIMEOUT: the sweeper does, as one replica alone does for its own runs.
   */
  #sweep(): void {
    const runs = this.#runs;
    if (!runs || this.#sweeping || !this.#sweeperBackend) return;
    if (!this.#leases?.holds(this.#sweeperBackend) || this.#reach.anywhere()) return;
    this.#sweeping = runs
      .sweepWaiting()
      .catch((error: unknown) => this.#o.log.warn({ err: error }, 'could not sweep waiting runs'))
      .finally(() => {
        this.#sweeping = undefined;
      });
  }

  /** Whether no other replica has heartbeaten within the lease TTL (this one just did). */
  async #alone(): Promise<boolean> {
    try {
      const { rows } = await this.#db.query<{ n: string }>(
        "SELECT count(*) AS n FROM replicas WHERE id <> $1 AND seen_at > now() - ($2 || ' milliseconds')::interval",
        [this.replicaId, this.#o.leaseTtlMs],
      );
      return Number(rows[0]?.n ?? 0) === 0;
    } catch {
      return false;
    }
  }

  async #refreshQueued(): Promise<void> {
    try {
      const { rows } = await this.#db.query<{ n: string }>(
        "SELECT count(*) AS n FROM runs WHERE status = 'queued'",
      );
      this.#queued = Number(rows[0]?.n ?? 0);
    } catch {
      // Postgres away: keep the last count; readiness reports the outage.
    }
  }

  /** Capacity freed here (a run ended): look for queued runs now rather than at the next poll. */
  wake(): void {
    this.#queue.wake();
  }

  async stop(): Promise<void> {
    clearInterval(this.#queuedTimer);
    clearInterval(this.#sweepTimer);
    this.#reach.stop();
    await this.#sweeping;
    await this.rateLimiter?.stop();
    await this.#queue.stop();
    await this.#leases?.stop();
    await this.#db.end().catch(() => undefined);
  }

  // ---- RunQueue ----

  async enqueue(runId: string, db?: SqlExecutor, priority?: RunPriority): Promise<void> {
    await this.#queue.enqueue(runId, db, priority);
  }

  ring(): void {
    this.#queue.ring(this.#executor);
  }

  hasRoom(): boolean {
    return (this.#pool?.capacity(this.#o.maxRunsPerBackend) ?? 0) > 0;
  }

  async requestCancel(runId: string): Promise<void> {
    await this.#db.query('SELECT pg_notify($1, $2)', [CONTROL_CHANNEL, `cancel:${runId}`]);
  }

  readonly #executor: SqlExecutor = {
    executeSql: (text, values) => this.#db.query(text, values),
  };

  #control(payload: string): void {
    const [verb, runId] = payload.split(':');
    // `runId` is a replica's id for these two.
    if ((verb === REACH || verb === UNREACH) && runId) {
      this.#reach.heard(verb, runId);
      return;
    }
    if (verb !== 'cancel' || !runId || !this.#runs?.holds(runId)) return;
    // The replica that asked checked the caller may see the run.
    this.#runs.cancel(runId, EVERY_PROJECT).catch(() => undefined); // already ending: nothing to do
  }
}

/**
 * Several replicas share work only on Postgres and only over external backends: an embedded engine lives
 * and dies with its own process, so with one this replica places its own runs, as it would alone.
 */
export function clusterFor(
  config: ServerConfig,
  database: 'sqlite' | 'postgres',
  backends: readonly BackendConfig[],
  embedded: boolean,
  log: Logger,
  listen: ListenTo,
): Cluster | undefined {
  if (database !== 'postgres' || !config.databaseUrl) return undefined;
  if (embedded) {
    log.warn(
      'Postgres without FLOWSCALE_COMFYUI_URLS: this replica places runs only on its own embedded engine; ' +
        'list shared ComfyUI backends to spread runs over replicas',
    );
    return undefined;
  }
  return new Cluster({
    connectionString: config.databaseUrl,
    backendIds: backends.map((backend) => backend.id),
    log,
    leaseTtlMs: config.leaseTtlMs,
    maxRunsPerBackend: config.maxRunsPerBackend,
    queuePollMs: 1000,
    rateLimit: config.rateLimit,
    listen,
  });
}
