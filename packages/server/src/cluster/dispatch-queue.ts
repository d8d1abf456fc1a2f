import PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import { PRIORITY_RANK } from '../runs/run-order';
import type { RunPriority } from '../storage/records';
import type { SqlExecutor } from '../storage/stores';

export const DISPATCH_QUEUE = 'flowscale-dispatch';
const WAKE_CHANNEL = 'flowscale_dispatch';
const MAX_BATCH = 16;
/**
 * A job a replica fetched and died holding is retried after this long. Short is safe: the run row's fenced
 * claim means a job retried while its first taker is still alive can never place the run twice. It matches
 * the default lease TTL (10 s), so a dead replica's unplaced runs come back with its backends.
 */
const JOB_EXPIRE_SECONDS = 10;

export interface DispatchQueueOptions {
  connectionString: string;
  /** Follows a channel on the replica's one LISTEN session; `onListening` also after each reconnect. */
  listen: ListenTo;
  log: Logger;
  /** How many more runs this replica can place right now (0 when it owns no connected backend). */
  capacity(): number;
  /**
   * Takes one queued run: claims it for a backend this replica owns and starts its dispatch. Resolves
   * once the claim is decided (true: taken or no longer queued, so the job is done; false: give it back).
   */
  take(runId: string): Promise<boolean>;
  /** Fallback poll when no NOTIFY arrives (a lost doorbell, or LISTEN down). */
  pollMs: number;
}

export type ListenTo = (
  channel: string,
  onNotice: (payload: string) => void,
  onListening: () => void,
) => Promise<void>;

/**
 * The queue between accepting a run (any replica) and placing it (the replica owning a free backend),
 * on pg-boss in the same Postgres. A job carries only the run id; the run row stays the truth, and a
 * replica claims it with a fenced UPDATE, so a job delivered twice can never place a run twice.
 * A NOTIFY wakes the owners at once (dispatch in milliseconds); polling is the guarantee.
 */
export class DispatchQueue {
  readonly #o: DispatchQueueOptions;
  readonly #boss: PgBoss;
  #timer: NodeJS.Timeout | undefined;
  #draining: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #wakeQueued = false;

  constructor(options: DispatchQueueOptions) {
    this.#o = options;
    this.#boss = new PgBoss({
      connectionString: options.connectionString,
      max: 3,
      application_name: 'flowscale-queue',
      schedule: false,
      // A replica dying between fetching a batch and completing it leaves those jobs active: they expire
      // after JOB_EXPIRE_SECONDS and are retried, found within this interval.
      maintenanceIntervalSeconds: 2,
    });
    this.#boss.on('error', (error) => options.log.warn({ err: error }, 'pg-boss error'));
  }

  async start(): Promise<void> {
    await this.#boss.start();
    const queue = {
      name: DISPATCH_QUEUE,
      retryLimit: 1_000_000,
      retryDelay: 1,
      expireInSeconds: JOB_EXPIRE_SECONDS,
    };
    await this.#boss.createQueue(DISPATCH_QUEUE, queue);
    // createQueue keeps the options of a queue that exists: a database made by an older version had 60 s.
    await this.#boss.updateQueue(DISPATCH_QUEUE, queue);
    await this.#o.listen(
      WAKE_CHANNEL,
      () => this.wake(),
      () => this.wake(),
    );
    this.#timer = setInterval(() => this.wake(), this.#o.pollMs);
    this.#timer.unref();
    this.wake();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#draining;
    await this.#boss.stop({ graceful: false, wait: true, close: true }).catch(() => undefined);
  }

  /** Queues a run for placement; with `db`, inside the caller's transaction (e.g. with the run's insert). */
  async enqueue(runId: string, db?: SqlExecutor, priority: RunPriority = 'normal'): Promise<void> {
    // pg-boss fetches higher priority first, then oldest first: the run's level, FIFO within it.
    await this.#boss.send(
      DISPATCH_QUEUE,
      { runId },
      { singletonKey: runId, priority: PRIORITY_RANK[priority], ...(db ? { db } : {}) },
    );
  }

  /** Rings every replica's doorbell once per tick, however many runs were queued in it. */
  ring(db: SqlExecutor): void {
    if (this.#wakeQueued) return;
    this.#wakeQueued = true;
    queueMicrotask(() => {
      this.#wakeQueued = false;
      db.executeSql(`SELECT pg_notify('${WAKE_CHANNEL}', '')`, []).catch(() => undefined);
    });
  }

  /** Looks for queued runs now, if this replica can place any. */
  wake(): void {
    if (this.#stopped) return;
    if (this.#draining) {
      this.#again = true;
      return;
    }
    this.#draining = this.#drain().finally(() => {
      this.#draining = undefined;
      if (this.#again) {
        this.#again = false;
        this.wake();
      }
    });
  }

  async #drain(): Promise<void> {
    for (;;) {
      const room = Math.min(MAX_BATCH, this.#o.capacity());
      if (room <= 0 || this.#stopped) return;
      let jobs: Array<PgBoss.Job<{ runId: string }>>;
      try {
        jobs = await this.#boss.fetch<{ runId: string }>(DISPATCH_QUEUE, { batchSize: room });
      } catch (error) {
        this.#o.log.warn({ err: error }, 'could not fetch queued runs');
        return;
      }
      if (jobs.length === 0) return;
      const done: string[] = [];
      const back: string[] = [];
      for (const job of jobs) {
        const taken = await this.#o.take(job.data.runId).catch((error: unknown) => {
          this.#o.log.warn({ err: error, run: job.data.runId }, 'could not take queued run');
          return false;
        });
        (taken ? done : back).push(job.id);
      }
      if (done.length > 0) await this.#boss.complete(DISPATCH_QUEUE, done).catch(() => undefined);
      if (back.length > 0) await this.#boss.fail(DISPATCH_QUEUE, back).catch(() => undefined);
      if (back.length > 0) return;
    }
  }
}
