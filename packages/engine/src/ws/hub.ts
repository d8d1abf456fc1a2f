import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import type { EventSink, Scope } from '../run/events';

export const FEATURES = { supports_preview_metadata: true, max_upload_size: 104857600 };

const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

interface Client {
  socket: WebSocket;
  sid: string;
  sawFirstMessage: boolean;
}

/**
 * The /ws sockets by client id. Unlike ComfyUI, an old socket closing after its id was reused does not
 * unregister the newer socket (documented difference).
 */
export class SocketHub implements EventSink {
  private readonly clients = new Map<string, Client>();

  constructor(private readonly queueRemaining: () => number) {}

  get size(): number {
    return this.clients.size;
  }

  attach(socket: WebSocket, requestedId: string | null): Client {
    const sid = requestedId || randomUUID().replace(/-/g, '');
    const client: Client = { socket, sid, sawFirstMessage: false };
    this.clients.set(sid, client);
    socket.on('close', () => {
      if (this.clients.get(sid) === client) this.clients.delete(sid);
    });
    socket.on('message', (data, isBinary) => this.onMessage(client, data.toString(), isBinary));
    socket.on('error', () => socket.terminate());
    this.sendTo(client, 'status', { status: this.statusPayload().status, sid });
    return client;
  }

  private onMessage(client: Client, text: string, isBinary: boolean): void {
    if (isBinary || client.sawFirstMessage) return;
    client.sawFirstMessage = true;
    try {
      const msg = JSON.parse(text) as { type?: unknown };
      if (msg?.type === 'feature_flags') this.sendTo(client, 'feature_flags', FEATURES);
    } catch {
      // ComfyUI ignores text it cannot parse.
    }
  }

  statusPayload(): { status: { exec_info: { queue_remaining: number } } } {
    return { status: { exec_info: { queue_remaining: this.queueRemaining() } } };
  }

  broadcastStatus(): void {
    this.broadcast('status', this.statusPayload());
  }

  broadcast(type: string, data: unknown): void {
    if (this.clients.size === 0) return;
    const frame = JSON.stringify({ type, data });
    for (const client of this.clients.values()) this.write(client.socket, frame);
  }

  send(type: string, data: unknown, clientId: string | undefined, scope: Scope = 'client'): void {
    if (clientId === undefined) {
      if (scope === 'clientOrAll') this.broadcast(type, data);
      return;
    }
    const client = this.clients.get(clientId);
    if (client) this.sendTo(client, type, data);
  }

  sendTo(client: Client, type: string, data: unknown): void {
    this.write(client.socket, JSON.stringify({ type, data }));
  }

  sendText(nodeId: string, text: string): void {
    if (this.clients.size === 0) return;
    const id = Buffer.from(nodeId, 'utf8');
    const header = Buffer.alloc(8);
    header.writeUInt32BE(3, 0);
    header.writeUInt32BE(id.length, 4);
    const frame = Buffer.concat([header, id, Buffer.from(text, 'utf8')]);
    for (const client of this.clients.values()) this.write(client.socket, frame);
  }

  private write(socket: WebSocket, frame: string | Buffer): void {
    if (socket.readyState !== WebSocket.OPEN) return;
    // A client that stopped reading would otherwise grow our send buffer without limit.
    if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      socket.terminate();
      return;
    }
    socket.send(frame);
  }

  closeAll(): void {
    for (const client of this.clients.values()) client.socket.terminate();
    this.clients.clear();
  }
}
