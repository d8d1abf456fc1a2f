import type { PromptGraph } from '../graph/prompt';

export interface QueueItem {
  number: number;
  promptId: string;
  prompt: PromptGraph;
  extraData: Record<string, unknown>;
  outputs: string[];
  /** Arrival order, to keep FIFO among equal numbers (ComfyUI's heap uses a counter the same way). */
  seq: number;
}

export type QueueTuple = [number, string, PromptGraph, Record<string, unknown>, string[]];

function toTuple(item: QueueItem): QueueTuple {
  return [item.number, item.promptId, item.prompt, item.extraData, item.outputs];
}

/** One-at-a-time prompt queue, lowest number first. The pending list is kept sorted (a valid heap order). */
export class PromptQueue {
  private pending: QueueItem[] = [];
  private seq = 0;
  running: QueueItem | null = null;

  get pendingCount(): number {
    return this.pending.length;
  }

  /** What ComfyUI calls queue_remaining: pending plus running. */
  remaining(): number {
    return this.pending.length + (this.running ? 1 : 0);
  }

  push(item: Omit<QueueItem, 'seq'>): void {
    const full = { ...item, seq: this.seq++ };
    let i = this.pending.length;
    while (i > 0 && this.isBefore(full, this.pending[i - 1] as QueueItem)) i--;
    this.pending.splice(i, 0, full);
  }

  private isBefore(a: QueueItem, b: QueueItem): boolean {
    return a.number < b.number || (a.number === b.number && a.seq < b.seq);
  }

  /** Moves the next pending item to running. */
  take(): QueueItem | undefined {
    const next = this.pending.shift();
    this.running = next ?? null;
    return next;
  }

  /** Removes pending items by prompt id; returns how many were removed. */
  delete(ids: readonly string[]): number {
    const wanted = new Set(ids);
    const before = this.pending.length;
    this.pending = this.pending.filter((item) => !wanted.has(item.promptId));
    return before - this.pending.length;
  }

  clear(): number {
    const n = this.pending.length;
    this.pending = [];
    return n;
  }

  snapshot(): { queue_running: QueueTuple[]; queue_pending: QueueTuple[] } {
    return {
      queue_running: this.running ? [toTuple(this.running)] : [],
      queue_pending: this.pending.map(toTuple),
    };
  }
}
