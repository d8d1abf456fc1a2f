/**
 * Which models each backend is believed to hold loaded ("warm"): the model sets of the last runs placed
 * there. A backend runs its queue in order, so the runs placed last are the ones it will have run last
 * when the next run reaches it. ComfyUI keeps one or two checkpoints in VRAM, so only the last
 * `capacity` distinct sets count; a backend that reconnects (perhaps restarted) starts cold.
 */
export class WarmModels {
  readonly #capacity: number;
  /** Backend id → its recent model sets, most recent last. */
  readonly #recent = new Map<string, string[][]>();

  constructor(capacity = 2) {
    this.#capacity = capacity;
  }

  /** A run loading `models` was placed on the backend. */
  note(backendId: string, models: readonly string[]): void {
    if (models.length === 0) return;
    const key = models.join('\0');
    const recent = (this.#recent.get(backendId) ?? []).filter((set) => set.join('\0') !== key);
    recent.push([...models]);
    this.#recent.set(backendId, recent.slice(-this.#capacity));
  }

  /** True when every model of the set is among the backend's recent ones. */
  has(backendId: string, models: readonly string[]): boolean {
    if (models.length === 0) return false;
    const recent = this.#recent.get(backendId);
    if (!recent) return false;
    return models.every((model) => recent.some((set) => set.includes(model)));
  }

  /** The backend's recent models, most recent last (for views and logs). */
  of(backendId: string): string[] {
    return [...new Set((this.#recent.get(backendId) ?? []).flat())];
  }

  forget(backendId: string): void {
    this.#recent.delete(backendId);
  }
}
