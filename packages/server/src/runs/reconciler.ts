import type { Logger } from 'pino';
import type { Backend, BackendPool } from '../backends/backend-pool';
import type { ComfyHistoryEntry } from '../backends/comfy-types';
import { isTerminal } from '../storage/records';
import type { ActiveRun } from './active-run';

/** What the reconciler may ask of the run service; each call queues a step on that run. */
export interface ReconcileTarget {
  unfinishedRuns(): Iterable<ActiveRun>;
  dispatchLater(active: ActiveRun): void;
  reassignLater(active: ActiveRun): void;
  startedLater(active: ActiveRun, backend: Backend): void;
  settleLater(active: ActiveRun, backend: Backend, entry: ComfyHistoryEntry): void;
  lostLater(active: ActiveRun, backend: Backend): void;
}

/** A prompt must be missing from both /queue and /history this many times in a row to count as lost. */
const VANISHED_CHECKS = 2;

/**
 * Periodically checks every unfinished run against its backend's /queue and /history by prompt_id. This is
 * what settles runs after a restart or a missed WebSocket message, dispatches runs that waited for a
 * backend, and notices prompts a backend lost, without ever submitting a prompt twice.
 */
export class Reconciler {
  readonly #target: ReconcileTarget;
  readonly #pool: () => BackendPool;
  readonly #log: Logger;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #ticking = false;
  #stopped = false;

  constructor(target: ReconcileTarget, pool: () => BackendPool, log: Logger, intervalMs: number) {
    this.#target = target;
    this.#pool = pool;
    this.#log = log;
    this.#intervalMs = intervalMs;
  }

  start(): void {
    this.#timer = setInterval(() => void this.tick(), this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
  }

  async tick(): Promise<void> {
    if (this.#ticking || this.#stopped) return;
    this.#ticking = true;
    try {
      const byBackend = this.#groupByBackend();
      await Promise.all([...byBackend].map(([backend, runs]) => this.#reconcileBackend(backend, runs)));
    } catch (error) {
      this.#log.error({ err: error }, 'reconcile failed');
    } finally {
      this.#ticking = false;
    }
  }

  /** Runs submitted somewhere, by backend; runs waiting for a backend are dispatched on the way. */
  #groupByBackend(): Map<Backend, ActiveRun[]> {
    const byBackend = new Map<Backend, ActiveRun[]>();
    for (const active of this.#target.unfinishedRuns()) {
      if (isTerminal(active.run.status)) continue;
      if (!active.submitted) {
        if (active.run.backendId === null) this.#target.dispatchLater(active);
        continue;
      }
      const backend = this.#pool().get(active.run.backendId);
      if (!backend) {
        this.#target.reassignLater(active);
        continue;
      }
      const list = byBackend.get(backend);
      if (list) list.push(active);
      else byBackend.set(backend, [active]);
    }
    return byBackend;
  }

  async #reconcileBackend(backend: Backend, runs: ActiveRun[]): Promise<void> {
    if (!backend.connected) return;
    const snapshotAt = Date.now();
    let running: Set<string>;
    let pending: Set<string>;
    try {
      const queue = await backend.client.getQueue();
      running = new Set(queue.queue_running.map((item) => item[1]));
      pending = new Set(queue.queue_pending.map((item) => item[1]));
    } catch {
      return;
    }
    for (const active of runs) {
      // A prompt submitted after the snapshot was taken cannot be judged by it.
      if (isTerminal(active.run.status) || active.submittedAtMs > snapshotAt) continue;
      const promptId = active.run.promptId;
      if (running.has(promptId) || pending.has(promptId)) {
        active.vanished = 0;
        active.restored = false; // its backend has it: from now on, losing it is a failure
        if (running.has(promptId)) this.#target.startedLater(active, backend);
        continue;
      }
      const entry = await backend.client.getHistory(promptId).catch(() => undefined);
      if (entry?.status) {
        this.#target.settleLater(active, backend, entry);
        continue;
      }
      active.vanished++;
      if (active.vanished >= VANISHED_CHECKS) this.#target.lostLater(active, backend);
    }
  }
}
