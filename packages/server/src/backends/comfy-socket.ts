import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { type BackendTls, DEFAULT_BACKEND_TLS, tlsFields } from './backend-tls';
import type { ComfyMessage } from './comfy-types';

export interface ComfySocketHandlers {
  onOpen(clientId: string): void;
  onMessage(message: ComfyMessage): void;
  /** `error`: why the connection failed or dropped, when ws said (see describeSocketError). */
  onClose(error?: Error): void;
}

/** A backend that accepts TCP but never answers the upgrade counts as unreachable after this long. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * Default gap between pings to an open backend socket. A backend that has not answered the previous ping
 * by the next one is treated as gone: a silent network path otherwise looks connected for minutes.
 */
export const DEFAULT_HEARTBEAT_MS = 10_000;

const INITIAL_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 5000;

/**
 * Keeps one WebSocket open to a backend, reconnecting with exponential backoff.
 * Every connection uses a fresh clientId: reusing one while an old socket lingers breaks ComfyUI's routing.
 */
export class ComfySocket {
  readonly #wsBase: string;
  readonly #handlers: ComfySocketHandlers;
  readonly #tls: BackendTls;
  #socket: WebSocket | undefined;
  #clientId: string | undefined;
  #backoffMs = INITIAL_BACKOFF_MS;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly #heartbeatMs: number;

  constructor(
    baseUrl: string,
    handlers: ComfySocketHandlers,
    tls: BackendTls = DEFAULT_BACKEND_TLS,
    heartbeatMs = DEFAULT_HEARTBEAT_MS,
  ) {
    this.#wsBase = baseUrl.replace(/^http/, 'ws');
    this.#handlers = handlers;
    this.#tls = tls;
    this.#heartbeatMs = heartbeatMs;
  }

  /** The clientId of the open connection, if any. Prompts must carry it to get their events. */
  get clientId(): string | undefined {
    return this.#socket?.readyState === WebSocket.OPEN ? this.#clientId : undefined;
  }

  start(): void {
    this.#stopped = false;
    this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#socket?.terminate();
    this.#socket = undefined;
  }

  #connect(): void {
    if (this.#stopped) return;
    const clientId = randomUUID().replaceAll('-', '');
    const url = new URL(`${this.#wsBase}/ws?clientId=${clientId}`);
    // `wss:` gets the same CA and verification settings as the backend's HTTP requests.
    const tls = tlsFields(new URL(url.href.replace(/^ws/, 'http')), this.#tls);
    const socket = new WebSocket(url, {
      perMessageDeflate: false,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      ...tls,
    });
    let failure: Error | undefined;
    this.#socket = socket;
    this.#clientId = clientId;
    let heartbeat: NodeJS.Timeout | undefined;
    socket.on('open', () => {
      this.#backoffMs = INITIAL_BACKOFF_MS;
      heartbeat = this.#startHeartbeat(socket, (error) => {
        failure = error;
      });
      this.#handlers.onOpen(clientId);
    });
    socket.on('message', (raw, isBinary) => {
      if (isBinary) return; // previews and progress text are not part of a run's record
      try {
        const message = JSON.parse(raw.toString()) as ComfyMessage;
        if (message && typeof message.type === 'string') this.#handlers.onMessage(message);
      } catch {
        // A backend sending non-JSON text is ignored rather than tearing the connection down.
      }
    });
    socket.on('error', (error) => {
      failure = error;
    });
    socket.on('close', () => {
      clearInterval(heartbeat);
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      this.#handlers.onClose(failure);
      this.#scheduleReconnect();
    });
  }

  /** Pings every heartbeat; no pong since the last ping ends the socket, which then reconnects. */
  #startHeartbeat(socket: WebSocket, fail: (error: Error) => void): NodeJS.Timeout | undefined {
    if (this.#heartbeatMs <= 0) return undefined;
    let answered = true;
    socket.on('pong', () => {
      answered = true;
    });
    const timer = setInterval(() => {
      if (!answered) {
        fail(new Error(`no answer to a ping within ${this.#heartbeatMs} ms`));
        socket.terminate();
        return;
      }
      answered = false;
      socket.ping();
    }, this.#heartbeatMs);
    timer.unref();
    return timer;
  }

  #scheduleReconnect(): void {
    if (this.#stopped) return;
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, MAX_BACKOFF_MS);
    this.#timer = setTimeout(() => this.#connect(), delay);
  }
}
