import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { AppContext } from '../../context';
import type { RunEvent } from '../../storage/types';

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

/**
 * Registered on the root instance (not a route scope) so its upgrade listener, its `onResponse` socket
 * cleanup and its `preClose` also cover upgrades to unknown paths, which get the not-found envelope.
 */
export async function registerWebSocket(app: FastifyInstance): Promise<void> {
  await app.register(websocket, {
    options: { handleProtocols: chooseSubprotocol, maxPayload: 64 * 1024 },
    // The plugin's default closes clients with no reason; say why, and wait for them to go.
    preClose(done) {
      const wss = app.websocketServer;
      for (const client of wss.clients) client.close(1001, 'server shutting down');
      wss.close(() => done());
    },
  });
}

/**
 * `/api/v1/ws`: pushes run_status_update, accepts subscribe/unsubscribe. @fastify/websocket routes the
 * upgrade request through Fastify first, so the auth hook of the enclosing scope refuses a missing or bad
 * key with an ordinary 401 envelope before the handshake completes.
 */
export async function wsRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.route({
    method: 'GET',
    url: WS_PATH,
    schema: { hide: true },
    // A plain GET (no upgrade) gets the same 404 envelope as any other unknown route.
    handler: (_request, reply) =>
      reply.code(404).send({
        status: 'error',
        errors: `No route GET ${WS_PATH}: it only accepts WebSocket upgrades`,
        code: 'NOT_FOUND',
      }),
    wsHandler: (socket) => serveClient(socket, ctx),
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
