import type { RunEvent } from '../storage/types';

export type RunEventListener = (event: RunEvent) => void;

/** In-process fan-out of freshly persisted run events to SSE streams and WebSocket clients. */
export class EventBus {
  readonly #byRun = new Map<string, Set<RunEventListener>>();
  readonly #all = new Set<RunEventListener>();

  subscribe(runId: string, listener: RunEventListener): () => void {
    let listeners = this.#byRun.get(runId);
    if (!listeners) {
      listeners = new Set();
      this.#byRun.set(runId, listeners);
    }
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0) this.#byRun.delete(runId);
    };
  }

  subscribeAll(listener: RunEventListener): () => void {
    this.#all.add(listener);
    return () => this.#all.delete(listener);
  }

  publish(event: RunEvent): void {
    for (const listener of this.#byRun.get(event.runId) ?? []) listener(event);
    for (const listener of this.#all) listener(event);
  }
}
