import type { WebSocketConstructor, WebSocketLike } from '../core/options';
import { timing } from '../core/timing';
import type { TransportConfig } from '../core/transport';

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

export const MAX_RECONNECT_DELAY_MS = 30_000;

export interface SocketHandle {
  readonly connected: boolean;
  send(message: unknown): boolean;
  /** Closes for good: no reconnect after this. */
  close(): void;
}

/**
 * One logical connection to `<baseUrl>/api/v1/ws` that survives drops, reconnecting with exponential
 * backoff up to a ceiling.
 */
export function openReconnectingSocket(
  config: TransportConfig,
  options: ConnectWebSocketOptions,
): SocketHandle {
  const { customHeaders, logger } = config;
  let Impl = config.webSocketImpl ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  const apiKey = config.proxyMode ? undefined : config.apiKey;
  const url = `${config.baseUrl.replace(/^http/, 'ws')}/api/v1/ws`;
  const { reconnect = true, reconnectInterval = 1000, maxReconnectAttempts = 5 } = options;
  let socket: WebSocketLike | undefined;
  let stopped = false;
  let attempts = 0;
  // Active subscribe messages by run id: a new connection knows nothing of the old one's subscriptions.
  const subscriptions = new Map<unknown, string | false>();

  const open = (): unknown => {
    // No global WebSocket (Node 20): load `ws` once, then open. A missing `ws` is reported through onError.
    if (!Impl)
      return import('./node-socket')
        .then((m) => m.loadWs())
        .then(
          (loaded) => {
            Impl = loaded;
            stopped || open();
          },
          (error: Error) => {
            logger.log('error', error.message);
            options.onError?.(error);
          },
        );
    // Browsers cannot send headers on a WebSocket, so the key travels as a subprotocol there.
    const current = Impl.acceptsHeaders
      ? new Impl(url, undefined, {
          headers: apiKey ? { ...customHeaders, 'X-API-KEY': apiKey } : customHeaders,
        })
      : new Impl(url, apiKey ? ['flowscale', `flowscale.key.${apiKey}`] : undefined);
    socket = current;
    current.onopen = (event) => {
      attempts = 0;
      logger.log('info', 'WebSocket connection established');
      for (const text of subscriptions.values()) if (text) current.send(text);
      options.onOpen?.(event);
    };
    // After disconnect, frames still in flight are dropped rather than delivered.
    current.onmessage = (event) => stopped || options.onMessage?.(parseMessage(event.data));
    current.onerror = (event) => options.onError?.(event);
    current.onclose = (event) => {
      options.onClose?.(event);
      if (current === socket) scheduleReconnect(event.code);
    };
  };

  const scheduleReconnect = (code: number) => {
    if (stopped) return;
    // 1008 (policy violation) is how a server rejects credentials: retrying cannot help.
    if (!reconnect || code === 1008 || attempts >= maxReconnectAttempts) {
      logger.log('warn', `WebSocket closed (code ${code}); not reconnecting`);
      return;
    }
    const delay = Math.min(reconnectInterval * 2 ** attempts++, MAX_RECONNECT_DELAY_MS);
    logger.log('info', `WebSocket closed (code ${code}); reconnect ${attempts} in ${delay}ms`);
    timing.delay(delay).then(() => stopped || open());
  };

  open();
  return {
    get connected() {
      return socket?.readyState === 1;
    },
    send(message) {
      if (socket?.readyState !== 1) return false;
      const text = typeof message === 'string' ? message : JSON.stringify(message);
      socket.send(text);
      // The last client_event per run says whether it is subscribed; subscribe messages are re-sent.
      const { type, data } = parseMessage(text) as {
        type: unknown;
        data?: { action?: unknown; runId?: unknown };
      };
      if (type === 'client_event' && data?.runId)
        subscriptions.set(data.runId, data.action === 'subscribe' && text);
      return true;
    },
    close() {
      stopped = true;
      socket?.close(1000, 'client disconnect');
    },
  };
}

function parseMessage(data: unknown): WebSocketMessage {
  if (typeof data !== 'string') return data as WebSocketMessage;
  try {
    return JSON.parse(data) as WebSocketMessage;
  } catch {
    return { type: 'raw', data };
  }
}
