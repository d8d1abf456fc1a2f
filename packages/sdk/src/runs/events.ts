import { FlowScaleError, NetworkError } from '../core/errors';
import type { RequestOptions } from '../core/options';
import { backoffDelay } from '../core/retry';
import { timing } from '../core/timing';
import type { Transport } from '../core/transport';
import type { RunEvent, RunEventMessage } from '../types/api';
import { createSseParser, type SseMessage } from './sse-parser';

export const TERMINAL_EVENTS = ['run.completed', 'run.failed', 'run.cancelled'];

export interface FollowOptions extends RequestOptions {
  /** Replay from this sequence number (inclusive). */
  fromSeq?: number;
  onOpen?: (response: Response) => void;
  onEvent: (message: RunEventMessage) => void;
}

/**
 * Follows `GET /api/v1/runs/{id}/events` until a terminal event, which it returns. After a dropped
 * connection it reconnects with `Last-Event-ID` / `from_seq` and skips any event it already delivered,
 * so each event reaches `onEvent` exactly once and in order. Gives up after `transport.config.retries`
 * consecutive reconnects that bring no new event.
 */
export async function followRunEvents(
  transport: Transport,
  runId: string,
  options: FollowOptions,
): Promise<RunEvent> {
  const { signal } = options;
  const path = `/api/v1/runs/${encodeURIComponent(runId)}/events`;
  let lastSeq = (options.fromSeq ?? 1) - 1;
  for (let failures = 0; ; ) {
    const opened = await transport.open({
      timeout: options.timeout,
      method: 'GET',
      path,
      query: { from_seq: lastSeq + 1 },
      headers: {
        ...options.headers,
        Accept: 'text/event-stream',
        ...(lastSeq > 0 && { 'Last-Event-ID': String(lastSeq) }),
      },
      signal,
    });
    try {
      const type = opened.response.headers.get('content-type') ?? '';
      if (!type.includes('text/event-stream') || !opened.response.body) {
        throw new FlowScaleError(`No event stream (content-type "${type}")`, { code: 'events_unavailable' });
      }
      options.onOpen?.(opened.response);
      for await (const message of sseMessages(opened.response.body)) {
        // One network chunk can hold several events; none may reach the caller after close().
        if (signal?.aborted) throw signal.reason;
        // Malformed JSON counts as a broken connection: reconnecting re-reads from the last good event.
        const data = JSON.parse(message.data) as RunEvent;
        const seq = Number(message.id ?? data.seq);
        if (seq <= lastSeq) continue;
        lastSeq = seq;
        failures = 0;
        options.onEvent({ id: message.id, event: message.event, data });
        if (TERMINAL_EVENTS.includes(data.type)) return data;
      }
    } catch (error) {
      if (signal?.aborted || error instanceof FlowScaleError) throw error;
      transport.config.logger.log('debug', `Run ${runId} event stream dropped: ${(error as Error).message}`);
    } finally {
      opened.dispose();
    }
    if (++failures > transport.config.retries) {
      throw new NetworkError(`Run ${runId} event stream closed before the run ended`, {
        code: 'stream_closed',
      });
    }
    await timing.delay(backoffDelay(failures, transport.config.retryDelay), signal);
  }
}

/** SSE messages from a byte stream; cancels the stream when the consumer stops early. */
export async function* sseMessages(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const queue: SseMessage[] = [];
  // One parser per connection: a reconnect starts a fresh stream, so no partial line carries over.
  const feed = createSseParser((message) => queue.push(message));
  const decoder = new TextDecoder();
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      feed(decoder.decode(value, { stream: true }));
      while (queue.length > 0) yield queue.shift()!;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}
