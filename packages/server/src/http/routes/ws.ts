import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import { Gauge } from 'prom-client';
import type { RawData, WebSocket } from 'ws';
import type { AppContext } from '../../context';
import type { SharedEvent } from '../../events/shared-event';
import type { Scope } from '../../projects/scope';
import { visibleEvents } from '../../projects/visible-events';
import { scopeOf } from '../scope';

export const WS_PATH = '/api/v1/ws';
/** Runs one socket may follow at once; each costs a bus subscription until it is dropped or the socket closes. */
export const MAX_WS_SUBSCRIPTIONS = 1000;
/** Run ids are UUIDs; anything longer or with other characters cannot name a run. */
const RUN_ID = /^[A-Za-z0-9_-]{1,128}$/;
/** A client that stops reading is cut off once this much waits to be sent to it, so it cannot grow our heap. */
export const MAX_WS_BUFFERED_BYTES = 4 * 1024 * 1024;
const EXPECTED = 'Expected {type:"client_event", data:{action:"subscribe"|"unsubscribe", runId}}';

type ClientMessage = { action: 'subscribe' | 'unsubscribe'; runId: string } | { error: string };

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
  const stats = socketGauges(ctx);
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
    wsHandler: (socket, request) => serveClient(socket, ctx, stats, scopeOf(request)),
  });
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const textOf = (raw: RawData): string => {
  if (Buffer.isBuffer(raw)) return raw.toString();
  return Array.isArray(raw) ? Buffer.concat(raw).toString() : Buffer.from(raw).toString();
};

/** Any frame a client may send, valid or not, becomes a command or the reason it is refused. */
export function parseClientMessage(text: string): ClientMessage {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return { error: 'Messages must be JSON' };
  }
  if (!isObject(message) || message.type !== 'client_event' || !isObject(message.data)) {
    return { error: EXPECTED };
  }
  const { action } = message.data;
  const runId = message.data.runId ?? message.data.run_id;
  if ((action !== 'subscribe' && action !== 'unsubscribe') || typeof runId !== 'string') {
    return { error: EXPECTED };
  }
  if (!RUN_ID.test(runId)) return { error: 'runId must be 1-128 letters, digits, "-" or "_"' };
  return { action, runId };
}

/** Open sockets and their subscriptions, for /metrics: both must fall back to 0 once clients are gone. */
interface SocketStats {
  connections: number;
  subscriptions: number;
}

function socketGauges(ctx: AppContext): SocketStats {
  const stats: SocketStats = { connections: 0, subscriptions: 0 };
  const registers = [ctx.metrics.registry];
  new Gauge({
    name: 'flowscale_websocket_connections',
    help: 'Open WebSocket connections on /api/v1/ws',
    registers,
    collect() {
      this.set(stats.connections);
    },
  });
  new Gauge({
    name: 'flowscale_websocket_subscriptions',
    help: 'Runs followed by open WebSocket connections, summed over connections',
    registers,
    collect() {
      this.set(stats.subscriptions);
    },
  });
  return stats;
}

function serveClient(socket: WebSocket, ctx: AppContext, stats: SocketStats, scope: Scope): void {
  stats.connections++;
  const send = (payload: string | Buffer): void => {
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > MAX_WS_BUFFERED_BYTES) {
      // It is not reading, so a close frame would wait behind the backlog: drop the connection now.
      socket.terminate();
      return;
    }
    socket.send(payload, { binary: false });
  };
  const sendError = (message: string): void => send(JSON.stringify({ type: 'error', data: { message } }));
  // Every subscriber of a run is handed the same serialized message (SharedEvent); a key of a project only
  // gets its project's runs, whether it follows every run or names one of another project.
  const onEvent = visibleEvents(ctx.access, scope, (event: SharedEvent): void => send(event.statusUpdate));
  // No subscription means every run this key may see; once subscribed, only those runs.
  const runs = new Map<string, () => void>();
  let everyRun: (() => void) | undefined = ctx.bus.subscribeAll(onEvent);

  const subscribe = (runId: string): void => {
    if (!runs.has(runId)) {
      if (runs.size >= MAX_WS_SUBSCRIPTIONS) {
        sendError(`At most ${MAX_WS_SUBSCRIPTIONS} runs per connection; unsubscribe from one first`);
        return;
      }
      everyRun?.();
      everyRun = undefined;
      runs.set(runId, ctx.bus.subscribe(runId, onEvent));
      stats.subscriptions++;
    }
    send(JSON.stringify({ type: 'subscribed', data: { runId } }));
    sendCurrentStatus(ctx, runId, scope, send).catch(() => undefined);
  };
  const unsubscribe = (runId: string): void => {
    const drop = runs.get(runId);
    if (drop) {
      drop();
      runs.delete(runId);
      stats.subscriptions--;
    }
    if (runs.size === 0) everyRun ??= ctx.bus.subscribeAll(onEvent);
    send(JSON.stringify({ type: 'unsubscribed', data: { runId } }));
  };

  socket.once('close', () => {
    stats.connections--;
    stats.subscriptions -= runs.size;
    everyRun?.();
    everyRun = undefined;
    for (const drop of runs.values()) drop();
    runs.clear();
  });
  socket.on('error', () => socket.terminate());
  socket.on('message', (raw) => {
    // Whatever a client sends, it gets an answer or an error frame; nothing it sends may throw out of here.
    try {
      const message = parseClientMessage(textOf(raw));
      if ('error' in message) sendError(message.error);
      else if (message.action === 'subscribe') subscribe(message.runId);
      else unsubscribe(message.runId);
    } catch (error) {
      ctx.log.warn({ err: error }, 'WebSocket message failed');
      sendError('Could not handle the message');
    }
  });
}

/** A new subscriber learns where the run stands without waiting for its next event. */
async function sendCurrentStatus(
  ctx: AppContext,
  runId: string,
  scope: Scope,
  send: (payload: string) => void,
): Promise<void> {
  // After the bus follows the run, so no event committed after this snapshot is missed.
  await ctx.bus.ready(runId);
  const run = await ctx.access.find(runId, scope).catch(() => undefined);
  if (!run) return;
  send(
    JSON.stringify({
      type: 'run_status_update',
      data: { run_id: run.id, status: run.status, progress: run.progress, event: 'snapshot' },
    }),
  );
}
