import { linkSignal } from '../core/timing';
import type { Transport } from '../core/transport';
import type { RunEventMessage } from '../types/api';

export interface SubscribeRunEventsOptions {
  /** Replay from this sequence number (inclusive). */
  fromSeq?: number;
  signal?: AbortSignal;
  onOpen?: (response: Response) => void;
  onEvent?: (event: RunEventMessage) => void;
  /**
   * Called once if the stream fails for good (after reconnect attempts), and with any exception thrown by
   * `onEvent` (the stream goes on).
   */
  onError?: (error: unknown) => void;
  onClose?: () => void;
}

export interface RunEventSubscription {
  /** Aborts the stream. */
  close(): void;
  /** Resolves when the stream ends: terminal event, `close()`, abort, or a final error (given to onError). */
  done: Promise<void>;
}

export function subscribeRunEvents(
  transport: Transport,
  runId: string,
  options: SubscribeRunEventsOptions = {},
): RunEventSubscription {
  const link = linkSignal(options.signal, 0, '');
  const report = (error: unknown) => {
    if (options.onError) options.onError(error);
    else transport.config.logger.log('error', `Run ${runId} event stream: ${(error as Error).message}`);
  };
  // The event-stream reader is a lazy chunk, loaded by the first subscription.
  const done = import('./events')
    .then(({ followRunEvents }) =>
      followRunEvents(transport, runId, {
        ...options,
        signal: link.signal,
        onEvent: (event) => {
          // A bug in the caller's handler is not a dropped connection: reconnecting would not fix it.
          try {
            options.onEvent?.(event);
          } catch (error) {
            report(error);
          }
        },
      }),
    )
    .then(
      () => {},
      (error) => {
        if (!link.signal.aborted) report(error);
      },
    )
    .finally(() => {
      link.dispose();
      options.onClose?.();
    });
  return { close: link.abort, done };
}
