import type { ServerResponse } from 'node:http';
import type { RunEvent } from '../storage/types';

export const TERMINAL_EVENT_TYPES: ReadonlySet<string> = new Set([
  'run.completed',
  'run.failed',
  'run.cancelled',
]);

export const formatSseEvent = (event: RunEvent): string =>
  `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;

/**
 * Writes run events to one SSE response: replayed ones first, then live ones, never a seq twice or out
 * of order. Closes the response after the terminal event.
 */
export class SseWriter {
  readonly #response: ServerResponse;
  #lastSeq: number;
  #replaying = true;
  #held: RunEvent[] = [];
  #closed = false;
  #corked = false;
  readonly #onClose: () => void;

  constructor(response: ServerResponse, fromSeq: number, onClose: () => void) {
    this.#response = response;
    this.#lastSeq = fromSeq - 1;
    this.#onClose = onClose;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Live events; held back until the replay is written. */
  push(event: RunEvent): void {
    if (this.#replaying) this.#held.push(event);
    else this.#write(event);
  }

  replay(events: RunEvent[]): void {
    for (const event of events) this.#write(event);
    this.#replaying = false;
    for (const event of this.#held) this.#write(event);
    this.#held = [];
  }

  ping(): void {
    if (!this.#closed) this.#response.write(': ping\n\n');
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#uncork();
    this.#response.end();
    this.#onClose();
  }

  /** Events of one burst (written in the same tick) leave in one packet instead of one syscall each. */
  #cork(): void {
    if (this.#corked) return;
    this.#corked = true;
    this.#response.cork();
    process.nextTick(() => this.#uncork());
  }

  #uncork(): void {
    if (!this.#corked) return;
    this.#corked = false;
    this.#response.uncork();
  }

  #write(event: RunEvent): void {
    if (this.#closed || event.seq <= this.#lastSeq) return;
    this.#lastSeq = event.seq;
    this.#cork();
    this.#response.write(formatSseEvent(event));
    if (TERMINAL_EVENT_TYPES.has(event.type)) this.close();
  }
}
