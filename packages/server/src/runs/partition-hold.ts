import type { Backend } from '../backends/backend-pool';

/**
 * Backends that went out of reach without refusing connections. Behind a network partition a backend
 * keeps executing what it was given, so moving its runs at once could execute a prompt twice: they are
 * held until the backend returns (and is reconciled through /queue and /history) or the deadline passes.
 */
export class PartitionHold {
  readonly #deadlineMs: number;
  readonly #expire: (backend: Backend) => void;
  readonly #timers = new Map<string, NodeJS.Timeout>();

  constructor(deadlineMs: number, expire: (backend: Backend) => void) {
    this.#deadlineMs = deadlineMs;
    this.#expire = expire;
  }

  get deadlineMs(): number {
    return this.#deadlineMs;
  }

  hold(backend: Backend): void {
    this.release(backend);
    const timer = setTimeout(() => {
      this.#timers.delete(backend.id);
      if (!backend.connected) this.#expire(backend);
    }, this.#deadlineMs);
    timer.unref();
    this.#timers.set(backend.id, timer);
  }

  /** True when the backend was held: it came back before its deadline. */
  release(backend: Backend): boolean {
    const timer = this.#timers.get(backend.id);
    clearTimeout(timer);
    return this.#timers.delete(backend.id);
  }

  stop(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }
}
