import type { BackendPool } from '../backends/backend-pool';
import type { EventBus } from '../events/event-bus';
import { type Scope, sees } from '../projects/scope';
import { isTerminal, type Run } from '../storage/records';
import type { RunStore } from '../storage/stores';
import { type DownloadUrl, type RunView, toRunView, WAITING_NONE_REACHABLE } from './run-view';

const CACHE_LIMIT = 5000;
const CACHE_TTL_MS = 30_000;

interface CachedView {
  body: string;
  projectId: string;
  storedAt: number;
}

/**
 * Serialized `GET /runs/{id}` envelopes, cached in memory and dropped whenever the run emits an event.
 * Polling clients hit this hard; serving a ready string avoids a database read and JSON work per request.
 *
 * Alone, this process writes every event, so a running run's entry is always dropped in time. Beside other
 * replicas it hears only the events of runs its own subscribers follow: then only finished runs, which
 * never change, are cached. A queued run is never cached: placing it on a backend comes with no event.
 */
export class RunViews {
  readonly #runs: RunStore;
  readonly #pool: () => BackendPool;
  readonly #downloadUrl: DownloadUrl;
  readonly #cache = new Map<string, CachedView>();

  readonly #cacheRunning: boolean;
  /** With several replicas, whether any has a backend; alone, this process's pool says. */
  readonly #reachable: (() => boolean) | undefined;

  constructor(
    runs: RunStore,
    bus: EventBus,
    pool: () => BackendPool,
    downloadUrl: DownloadUrl,
    options: { soleWriter: boolean; reachable?: () => boolean } = { soleWriter: true },
  ) {
    this.#cacheRunning = options.soleWriter;
    this.#reachable = options.reachable;
    this.#runs = runs;
    this.#pool = pool;
    this.#downloadUrl = downloadUrl;
    bus.watchChanges((runId) => this.#cache.delete(runId));
  }

  view(run: Run): Promise<RunView> {
    const pool = this.#pool();
    const reachable = this.#reachable ? this.#reachable() : pool.reachable();
    const waiting = run.status === 'queued' && run.backendId === null && !reachable;
    return toRunView(
      run,
      this.#downloadUrl,
      pool.get(run.backendId)?.name ?? null,
      waiting ? WAITING_NONE_REACHABLE : undefined,
    );
  }

  /** The whole success envelope for one run, serialized; undefined for an unknown run or another project's. */
  async envelope(runId: string, scope: Scope): Promise<string | undefined> {
    const cached = this.#cache.get(runId);
    if (cached && Date.now() - cached.storedAt < CACHE_TTL_MS) {
      return sees(scope, cached.projectId) ? cached.body : undefined;
    }
    const run = await this.#runs.get(runId);
    if (!run || !sees(scope, run.projectId)) return undefined;
    const body = JSON.stringify({ status: 'success', data: await this.view(run) });
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.delete(this.#cache.keys().next().value as string);
    if (isTerminal(run.status) || (run.status === 'running' && this.#cacheRunning)) {
      this.#cache.set(runId, { body, projectId: run.projectId, storedAt: Date.now() });
    }
    return body;
  }
}
