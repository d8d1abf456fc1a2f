import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import type { ComfyMessage } from './comfy-types';

export interface ComfySocketHandlers {
  onOpen(clientId: string): void;
  onMessage(message: ComfyMessage): void;
  onClose(): void;
}

const INITIAL_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 5000;

/**
 * Keeps one WebSocket open to a backend, reconnecting with exponential backoff.
 * Every connection uses a fresh clientId: reusing one while an old socket lingers breaks ComfyUI's routing.
 */
export class ComfySocket {
  readonly #wsBase: string;
  readonly #handlers: ComfySocketHandlers;
  #socket: WebSocket | undefined;
  #clientId: string | undefined;
  #backoffMs = INITIAL_BACKOFF_MS;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(baseUrl: string, handlers: ComfySocketHandlers) {
    this.#wsBase = baseUrl.replace(/^http/, 'ws');
    this.#handlers = handlers;
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
    const socket = new WebSocket(`${this.#wsBase}/ws?clientId=${clientId}`, { perMessageDeflate: false });
    this.#socket = socket;
    this.#clientId = clientId;
    socket.on('open', () => {
      this.#backoffMs = INITIAL_BACKOFF_MS;
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
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      this.#handlers.onClose();
      this.#scheduleReconnect();
    });
  }

  #scheduleReconnect(): void {
    if (this.#stopped) return;
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, MAX_BACKOFF_MS);
    this.#timer = setTimeout(() => this.#connect(), delay);
  }
}
