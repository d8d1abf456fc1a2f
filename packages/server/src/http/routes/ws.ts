import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { type WebSocket, WebSocketServer } from 'ws';
import type { AppContext } from '../../context';
import type { RunEvent } from '../../storage/types';
import { presentedKey } from '../plugins/auth';

interface ClientEvent {
  type?: string;
  data?: { action?: string; runId?: string; run_id?: string };
}

export const WS_PATH = '/api/v1/ws';

const statusUpdate = (event: RunEvent): string =>
  JSON.stringify({
    type: 'run_status_update',
    data: { ...event.data, run_id: event.runId, event: event.type, status: event.data.status },
  });

/** Browsers cannot send headers on a WebSocket; they offer `flowscale` plus `flowscale.key.<key>`. */
const chooseSubprotocol = (protocols: Set<string>): string | false =>
  protocols.has('flowscale') ? 'flowscale' : false;

function refuse(socket: Duplex, status: number, reason: string, message: string): void {
  const body = JSON.stringify({ status: 'error', errors: message, code: reason });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/**
 * `/api/v1/ws`: pushes run_status_update, accepts subscribe/unsubscribe. Upgrades are handled on the raw
 * server so the API key is checked before the handshake completes.
 */
export async function wsRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: chooseSubprotocol,
    maxPayload: 64 * 1024,
  });
  wss.on('connection', (socket) => serveClient(socket, ctx));

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const pathname = (request.url ?? '').split('?')[0];
    if (pathname !== WS_PATH) {
      refuse(socket, 404, 'NOT_FOUND', `No WebSocket endpoint at ${pathname}`);
      return;
    }
    const key = presentedKey(request.headers);
    if (!key) {
      refuse(
        socket,
        401,
        'UNAUTHORIZED',
        'Missing API key: send X-API-KEY or the flowscale.key.<key> subprotocol',
      );
      return;
    }
    ctx.keys.authenticate(key).then(
      (record) => {
        if (!record) refuse(socket, 401, 'UNAUTHORIZED', 'Invalid or revoked API key');
        else wss.handleUpgrade(request, socket, head, (client) => wss.emit('connection', client, request));
      },
      () => refuse(socket, 503, 'UNAVAILABLE', 'Could not check the API key'),
    );
  };
  app.server.on('upgrade', onUpgrade);
  app.addHook('preClose', async () => {
    app.server.off('upgrade', onUpgrade);
    for (const client of wss.clients) client.close(1001, 'server shutting down');
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });
}

function serveClient(socket: WebSocket, ctx: AppContext): void {
  // No subscription means every run this key may see; once subscribed, only those runs.
  const subscriptions = new Set<string>();
  const send = (payload: string): void => {
    if (socket.readyState === socket.OPEN) socket.send(payload);
  };
  const unsubscribe = ctx.bus.subscribeAll((event) => {
    if (subscriptions.size === 0 || subscriptions.has(event.runId)) send(statusUpdate(event));
  });
  socket.on('close', unsubscribe);
  socket.on('error', () => socket.terminate());
  socket.on('message', (raw) => {
    let message: ClientEvent;
    try {
      message = JSON.parse(raw.toString()) as ClientEvent;
    } catch {
      send(JSON.stringify({ type: 'error', data: { message: 'Messages must be JSON' } }));
      return;
    }
    const runId = message.data?.runId ?? message.data?.run_id;
    const action = message.data?.action;
    if (
      message.type !== 'client_event' ||
      typeof runId !== 'string' ||
      (action !== 'subscribe' && action !== 'unsubscribe')
    ) {
      send(
        JSON.stringify({
          type: 'error',
          data: { message: 'Expected {type:"client_event", data:{action:"subscribe"|"unsubscribe", runId}}' },
        }),
      );
      return;
    }
    if (action === 'subscribe') subscriptions.add(runId);
    else subscriptions.delete(runId);
    send(JSON.stringify({ type: `${action}d`, data: { runId } }));
    if (action === 'subscribe') void sendCurrentStatus(ctx, runId, send);
  });
}

/** A new subscriber learns where the run stands without waiting for its next event. */
async function sendCurrentStatus(
  ctx: AppContext,
  runId: string,
  send: (payload: string) => void,
): Promise<void> {
  const run = await ctx.storage.getRun(runId).catch(() => undefined);
  if (!run) return;
  send(
    JSON.stringify({
      type: 'run_status_update',
      data: { run_id: run.id, status: run.status, progress: run.progress, event: 'snapshot' },
    }),
  );
}
