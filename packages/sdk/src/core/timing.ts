import { addDeadline, cancelDeadline } from './deadlines';
import { TimeoutError } from './errors';

/**
 * Every deliberate wait of the SDK (retry backoff, poll interval, reconnect backoff) goes through
 * `timing.delay`. It is an object property so tests can record the scheduled delays instead of sleeping.
 */
export const timing = {
  delay(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};

export interface LinkedSignal {
  signal: AbortSignal;
  /** Aborts now (with an AbortError), as the caller's `close()`. */
  abort(): void;
  /** Stops the timer only (a streamed body outlives the connect timeout but still follows the parent). */
  clearTimer(): void;
  /** Stops the timer and detaches from the parent signal (long-lived parents must not keep us alive). */
  dispose(): void;
}

/**
 * An AbortSignal that fires when `parent` aborts (with the parent's reason) or after `timeoutMs`
 * (with a TimeoutError carrying `message`). `timeoutMs` of 0 or less means no timer.
 */
export function linkSignal(
  parent: AbortSignal | undefined,
  timeoutMs: number,
  message: string,
): LinkedSignal {
  const controller = new AbortController();
  const onAbort = () => controller.abort(parent?.reason);
  if (parent?.aborted) onAbort();
  else parent?.addEventListener('abort', onAbort, { once: true });
  // The link is its own deadline entry: one object per request.
  const link = {
    at: performance.now() + timeoutMs,
    fire: () => controller.abort(new TimeoutError(message, { code: 'timeout' })),
    signal: controller.signal,
    abort: () => controller.abort(),
    clearTimer: () => cancelDeadline(link),
    dispose() {
      cancelDeadline(link);
      parent?.removeEventListener('abort', onAbort);
    },
  };
  if (timeoutMs > 0) addDeadline(link);
  return link;
}

/** 16 random bytes as hex: idempotency keys and multipart boundaries (works without a secure context). */
export function randomId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => (b + 256).toString(16).slice(1)).join(
    '',
  );
}
