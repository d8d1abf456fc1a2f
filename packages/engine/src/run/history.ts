import type { UiOutput } from '../nodes/types';
import type { QueueTuple } from './queue';

export interface HistoryEntry {
  prompt: QueueTuple;
  outputs: Record<string, UiOutput>;
  status: { status_str: 'success' | 'error'; completed: boolean; messages: [string, unknown][] };
  meta: Record<string, { node_id: string; display_node: string; parent_node: null; real_node_id: string }>;
}

/**
 * Prompt history in insertion order, bounded by entry count (like ComfyUI's 10000) and by an approximate
 * byte budget, so a stream of huge prompts cannot grow memory without limit.
 */
export class History {
  private readonly entries = new Map<string, { entry: HistoryEntry; bytes: number }>();
  private bytes = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get approxBytes(): number {
    return this.bytes;
  }

  add(promptId: string, entry: HistoryEntry): void {
    const bytes = JSON.stringify(entry).length;
    const old = this.entries.get(promptId);
    if (old) this.bytes -= old.bytes;
    this.entries.set(promptId, { entry, bytes });
    this.bytes += bytes;
    this.evict();
  }

  private evict(): void {
    for (const [id, { bytes }] of this.entries) {
      if (this.entries.size <= this.maxEntries && (this.bytes <= this.maxBytes || this.entries.size === 1))
        return;
      this.entries.delete(id);
      this.bytes -= bytes;
    }
  }

  get(promptId: string): HistoryEntry | undefined {
    return this.entries.get(promptId)?.entry;
  }

  /** ComfyUI's get_history: newest `maxItems` by default, or `maxItems` from `offset`. */
  list(maxItems?: number, offset = -1): Record<string, HistoryEntry> {
    const ids = [...this.entries.keys()];
    let start = offset;
    if (start < 0 && maxItems !== undefined) start = ids.length - maxItems;
    const slice = ids.slice(
      Math.max(0, start),
      maxItems === undefined ? undefined : Math.max(0, start) + maxItems,
    );
    return Object.fromEntries(slice.map((id) => [id, this.entries.get(id)?.entry as HistoryEntry]));
  }

  delete(ids: readonly string[]): void {
    for (const id of ids) {
      const old = this.entries.get(id);
      if (!old) continue;
      this.bytes -= old.bytes;
      this.entries.delete(id);
    }
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}
