import type { BackendPool } from '../backends/backend-pool';
import type { EventBus } from '../events/event-bus';
import { isTerminal, type Run, type Storage } from '../storage/types';
import { type DownloadUrl, type RunView, toRunView } from './run-view';

const CACHE_LIMIT = 5000;
const CACHE_TTL_MS = 30_000;

interface CachedView {
  body: string;
  storedAt: number;
}

/**
 * Serialized `GET /runs/{id}` envelopes, cached in memory and dropped whenever the run emits an event.
 * Polling clients hit this hard; serving a ready string avoids a SQLite read and JSON work per request.
 */
export class RunViews {
  readonly #storage: Storage;
  readonly #pool: () => BackendPool;
  readonly #downloadUrl: DownloadUrl;
  readonly #cache = new Map<string, CachedView>();

  constructor(storage: Storage, bus: EventBus, pool: () => BackendPool, downloadUrl: DownloadUrl) {
    this.#storage = storage;
    this.#pool = pool;
    this.#downloadUrl = downloadUrl;
    bus.subscribeAll((event) => this.#cache.delete(event.runId));
  }

  view(run: Run): RunView {
    return toRunView(run, this.#downloadUrl, this.#pool().get(run.backendId)?.name ?? null);
  }

  /** The whole success envelope for one run, serialized; undefined for an unknown run. */
  async envelope(runId: string): Promise<string | undefined> {
    const cached = this.#cache.get(runId);
    if (cached && Date.now() - cached.storedAt < CACHE_TTL_MS) return cached.body;
    const run = await this.#storage.getRun(runId);
    if (!run) return undefined;
    const body = JSON.stringify({ status: 'success', data: this.view(run) });
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.delete(this.#cache.keys().next().value as string);
    // Unfinished runs are cached too: every change to them comes with an event, which evicts the entry.
    if (isTerminal(run.status) || run.status === 'queued' || run.status === 'running') {
      this.#cache.set(runId, { body, storedAt: Date.now() });
    }
    return body;
  }
}
