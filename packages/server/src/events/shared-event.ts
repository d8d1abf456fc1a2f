import type { RunEvent } from '../storage/records';

export const TERMINAL_EVENT_TYPES: ReadonlySet<string> = new Set([
  'run.completed',
  'run.failed',
  'run.cancelled',
]);

export const formatSseEvent = (event: RunEvent): string =>
  `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;

/** The payload of the WebSocket `run_status_update` message for a run event. */
export const formatStatusUpdate = (event: RunEvent): string =>
  JSON.stringify({
    type: 'run_status_update',
    data: { ...event.data, run_id: event.runId, event: event.type, status: event.data.status },
  });

/** One chunk of an HTTP/1.1 chunked body: hex length, CRLF, payload, CRLF. */
export const httpChunk = (payload: Buffer): Buffer =>
  Buffer.concat([Buffer.from(`${payload.length.toString(16)}\r\n`, 'latin1'), payload, CRLF]);
const CRLF = Buffer.from('\r\n', 'latin1');

/**
 * A published run event as every subscriber receives it. Its wire forms are computed on first use and
 * shared: with N subscribers, an event is serialized once, not N times, and each socket is handed the same
 * bytes (no per-socket string encoding either).
 */
export class SharedEvent {
  readonly event: RunEvent;
  readonly terminal: boolean;
  #sse: Buffer | undefined;
  #sseChunk: Buffer | undefined;
  #status: Buffer | undefined;

  constructor(event: RunEvent) {
    this.event = event;
    this.terminal = TERMINAL_EVENT_TYPES.has(event.type);
  }

  get runId(): string {
    return this.event.runId;
  }

  get seq(): number {
    return this.event.seq;
  }

  /** The SSE frame (`id`, `event`, `data`). */
  get sse(): Buffer {
    this.#sse ??= Buffer.from(formatSseEvent(this.event));
    return this.#sse;
  }

  /** The SSE frame already framed as a chunk of a chunked HTTP body, ready for a raw socket write. */
  get sseChunk(): Buffer {
    this.#sseChunk ??= httpChunk(this.sse);
    return this.#sseChunk;
  }

  /** The WebSocket `run_status_update` message. */
  get statusUpdate(): Buffer {
    this.#status ??= Buffer.from(formatStatusUpdate(this.event));
    return this.#status;
  }
}
