import type { EventDraft } from './state-machine';

export const PROGRESS_EVENT_EVERY_MS = 100;

interface Written {
  nodeId: unknown;
  value: unknown;
  progress: number;
}

/**
 * Thins one run's `node.progress` drafts so a chatty node cannot flood the event log: a draft that
 * changes neither the node's value nor the whole-percent run progress is dropped; the rest are written at
 * most every `intervalMs`, except a node's final step. A held draft is never lost: it is written when the
 * interval is up (the `due` callback) or before whatever the backend says next (`takePending`).
 */
export class ProgressCoalescer {
  readonly #intervalMs: number;
  readonly #due: () => void;
  #lastAt = 0;
  #last: Written | undefined;
  #pending: EventDraft | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(due: () => void, intervalMs = PROGRESS_EVENT_EVERY_MS) {
    this.#due = due;
    this.#intervalMs = intervalMs;
  }

  /** Whether to write this draft now, hold it, or drop it. */
  offer(draft: EventDraft, nowMs: number): 'write' | 'hold' | 'drop' {
    const { node_id: nodeId, value, max } = draft.data;
    const progress = draft.patch.progress ?? 0;
    const last = this.#last;
    if (last && last.nodeId === nodeId && last.value === value && last.progress === progress) {
      // Back where the log already says it is: a draft held since would now be out of date.
      this.#pending = undefined;
      return 'drop';
    }
    if ((value as number) >= (max as number) || nowMs - this.#lastAt >= this.#intervalMs) return 'write';
    this.#pending = draft;
    this.#arm(nowMs);
    return 'hold';
  }

  /** Records a draft as written (after `offer` said so, or after `takePending`). */
  written(draft: EventDraft, nowMs: number): void {
    this.#clearTimer();
    this.#pending = undefined;
    this.#lastAt = nowMs;
    this.#last = { nodeId: draft.data.node_id, value: draft.data.value, progress: draft.patch.progress ?? 0 };
  }

  /** The held draft, if any; the caller writes it and then calls `written`. */
  takePending(): EventDraft | undefined {
    const pending = this.#pending;
    this.#pending = undefined;
    return pending;
  }

  dispose(): void {
    this.#clearTimer();
    this.#pending = undefined;
  }

  #arm(nowMs: number): void {
    if (this.#timer) return;
    const wait = Math.max(0, this.#lastAt + this.#intervalMs - nowMs);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#due();
    }, wait);
    // Never keeps the process alive on its own; dispose() also clears it.
    this.#timer.unref();
  }

  #clearTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
