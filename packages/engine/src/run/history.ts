import type { UiOutput } from '../nodes/types';
import type { QueueTuple } from './queue';
import { SizedMap } from './sized-map';

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
  private readonly entries: SizedMap<HistoryEntry>;

  constructor(maxEntries: number, maxBytes: number) {
    this.entries = new SizedMap(maxEntries, maxBytes);
  }

  get size(): number {
    return this.entries.size;
  }

  get approxBytes(): number {
    return this.entries.approxBytes;
  }

  add(promptId: string, entry: HistoryEntry): void {
    this.entries.set(promptId, entry, JSON.stringify(entry).length);
  }

  get(promptId: string): HistoryEntry | undefined {
    return this.entries.get(promptId);
  }

  /** ComfyUI's get_history: newest `maxItems` by default, or `maxItems` from `offset`. */
  list(maxItems?: number, offset = -1): Record<string, HistoryEntry> {
    const ids = this.entries.keys();
    let start = offset;
    if (start < 0 && maxItems !== undefined) start = ids.length - maxItems;
    const slice = ids.slice(
      Math.max(0, start),
      maxItems === undefined ? undefined : Math.max(0, start) + maxItems,
    );
    return Object.fromEntries(slice.map((id) => [id, this.entries.get(id) as HistoryEntry]));
  }

  delete(ids: readonly string[]): void {
    for (const id of ids) this.entries.delete(id);
  }

  clear(): void {
    this.entries.clear();
  }
}
