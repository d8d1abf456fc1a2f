import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { RunEvent } from '../storage/records';
import { type Flushable, flushQueue } from './flush-queue';
import { httpChunk, SharedEvent } from './shared-event';

export { formatSseEvent, TERMINAL_EVENT_TYPES } from './shared-event';

const PING = Buffer.from(': ping\n\n');
const PING_CHUNK = httpChunk(PING);
/**
 * A client this far behind (bytes the kernel has not taken yet, ~4,000 events) is dropped; EventSource and
 * the SDK reconnect with Last-Event-ID and miss nothing.
 */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * Writes run events to one SSE response: replayed ones first, then live ones, never a seq twice or out of
 * order. Closes the response after the run's terminal event, even one from before the stream's start (a
 * stream opened past the end of a run still in flight must end when the run does).
 *
 * Once node:http has sent the head, frames go straight to the socket, already framed as chunks of the
 * chunked body and shared by every stream of the run (SharedEvent), instead of through `response.write`,
 * which frames, encodes and schedules a nextTick uncork per call. They are written by the shared flush
 * (one per event-loop turn for all writers, see FlushQueue). `response.end()` still writes the last chunk,
 * so the connection stays reusable.
 */
export class SseWriter implements Flushable {
  readonly #response: ServerResponse;
  readonly #onClose: () => void;
  #socket: Socket | undefined;
  #lastSeq: number;
  #replaying = true;
  #held: SharedEvent[] = [];
  #closed = false;
  /** Chunks waiting for the next flush, in seq order. */
  readonly #pending: Buffer[] = [];

  constructor(response: ServerResponse, fromSeq: number, onClose: () => void) {
    this.#response = response;
    this.#lastSeq = fromSeq - 1;
    this.#onClose = onClose;
  }

  /** Sends the head and a first comment; from here on the writer owns the body. */
  open(headers: Record<string, string>): void {
    this.#response.writeHead(200, headers);
    this.#response.write(': connected\n\n');
    const socket = this.#response.socket;
    // Raw chunks only where node:http itself writes a chunked body on this socket (HTTP/1.1, not queued
    // behind a pipelined response); otherwise every frame goes through the response.
    if (socket && (this.#response as { chunkedEncoding?: boolean }).chunkedEncoding === true) {
      this.#socket = socket;
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The seq the stream expects next. */
  get nextSeq(): number {
    return this.#lastSeq + 1;
  }

  /** Live events; held back until the replay is written. */
  push(event: SharedEvent): void {
    if (this.#replaying) this.#held.push(event);
    else this.#write(event);
  }

  /** Events read from the log; may be called again later (events already written are skipped). */
  replay(events: RunEvent[]): void {
    for (const event of events) this.#write(new SharedEvent(event));
    this.#replaying = false;
    for (const event of this.#held) this.#write(event);
    this.#held = [];
  }

  ping(): void {
    if (this.#closed) return;
    if (this.#socket) this.#enqueue(PING_CHUNK);
    else this.#response.write(PING);
  }

  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    this.#response.end();
    this.#onClose();
  }

  /** Writes the waiting chunks: one write, or one writev for several. */
  flush(): void {
    const pending = this.#pending;
    const socket = this.#socket;
    if (pending.length === 0 || !socket || this.#closed) return;
    if (socket.writableLength > MAX_BUFFERED_BYTES) {
      pending.length = 0;
      socket.destroy();
      return;
    }
    if (pending.length === 1) socket.write(pending[0] as Buffer);
    else {
      socket.cork();
      for (const chunk of pending) socket.write(chunk);
      socket.uncork();
    }
    pending.length = 0;
  }

  #write(event: SharedEvent): void {
    if (this.#closed) return;
    if (event.seq <= this.#lastSeq) {
      // Already written (then the stream is closed), or from before the start: either way the run is over.
      if (event.terminal) this.close();
      return;
    }
    this.#lastSeq = event.seq;
    if (this.#socket) this.#enqueue(event.sseChunk);
    else this.#response.write(event.sse);
    if (event.terminal) this.close();
  }

  #enqueue(chunk: Buffer): void {
    if (this.#pending.length === 0) flushQueue.add(this);
    this.#pending.push(chunk);
  }
}
