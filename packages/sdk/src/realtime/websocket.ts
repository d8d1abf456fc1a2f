import type { Logger } from '../core/logger';
import type { WebSocketConstructor, WebSocketLike } from '../core/options';
import { timing } from '../core/timing';

export interface WebSocketMessage {
  type: string;
  data?: unknown;
  [extra: string]: unknown;
}

export interface ConnectWebSocketOptions {
  onOpen?: (event: unknown) => void;
  /** Receives each message, parsed from JSON (the raw data when it is not JSON). */
  onMessage?: (message: WebSocketMessage) => void;
  onClose?: (event: { code: number; reason: string }) => void;
  onError?: (error: unknown) => void;
  /** Reconnect after the server closes or the connection drops. @default true */
  reconnect?: boolean;
  /** First reconnect delay in ms; doubles on each further attempt up to 30 s. @default 1000 */
  reconnectInterval?: number;
  /** Reconnect attempts in a row before giving up. @default 5 */
  maxReconnectAttempts?: number;
}

export interface SocketParams {
  url: string;
  Impl: WebSocketConstructor;
  apiKey: string | undefined;
  headers: Record<string, string>;
  logger: Logger;
}

export const MAX_RECONNECT_DELAY_MS = 30_000;
/** 1008 (policy violation) is how a server rejects credentials: retrying cannot help. */
const FINAL_CLOSE_CODES = new Set([1008]);

/** One logical connection that survives drops; `close()` stops it for good. */
export class ReconnectingSocket {
  #socket: WebSocketLike | undefined;
  #stopped = false;
  #attempts = 0;
  readonly #params: SocketParams;
  readonly #options: ConnectWebSocketOptions;

  constructor(params: SocketParams, options: ConnectWebSocketOptions) {
    this.#params = params;
    this.#options = options;
    this.#open();
  }

  get connected(): boolean {
    return this.#socket?.readyState === 1;
  }

  send(message: unknown): boolean {
    if (!this.connected) return false;
    this.#socket!.send(typeof message === 'string' ? message : JSON.stringify(message));
    return true;
  }

  close(): void {
    this.#stopped = true;
    this.#socket?.close(1000, 'client disconnect');
  }

  #open(): void {
    const { url, Impl, apiKey, headers, logger } = this.#params;
    const options = this.#options;
    // Browsers cannot send headers on a WebSocket, so the key travels as a subprotocol there.
    const socket = Impl.acceptsHeaders
      ? new Impl(url, undefined, { headers })
      : new Impl(url, apiKey ? ['flowscale', `flowscale.key.${apiKey}`] : undefined);
    this.#socket = socket;
    socket.onopen = (event) => {
      this.#attempts = 0;
      logger.log('info', 'WebSocket connection established');
      options.onOpen?.(event);
    };
    socket.onmessage = (event) => options.onMessage?.(parseMessage(event.data));
    socket.onerror = (event) => options.onError?.(event);
    socket.onclose = (event) => {
      options.onClose?.(event);
      if (socket === this.#socket) this.#scheduleReconnect(event.code);
    };
  }

  #scheduleReconnect(code: number): void {
    const { reconnect = true, reconnectInterval = 1000, maxReconnectAttempts = 5 } = this.#options;
    if (
      this.#stopped ||
      !reconnect ||
      FINAL_CLOSE_CODES.has(code) ||
      this.#attempts >= maxReconnectAttempts
    ) {
      if (!this.#stopped)
        this.#params.logger.log('warn', `WebSocket closed (code ${code}); not reconnecting`);
      return;
    }
    this.#attempts++;
    const delay = Math.min(reconnectInterval * 2 ** (this.#attempts - 1), MAX_RECONNECT_DELAY_MS);
    this.#params.logger.log(
      'info',
      `WebSocket closed (code ${code}); reconnect ${this.#attempts} in ${delay}ms`,
    );
    timing.delay(delay).then(() => {
      if (!this.#stopped) this.#open();
    });
  }
}

function parseMessage(data: unknown): WebSocketMessage {
  if (typeof data !== 'string') return data as WebSocketMessage;
  try {
    return JSON.parse(data) as WebSocketMessage;
  } catch {
    return { type: 'raw', data };
  }
}
