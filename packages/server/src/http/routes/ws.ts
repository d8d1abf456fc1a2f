import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { AppContext } from '../../context';
import type { RunEvent } from '../../storage/types';

interface ClientEvent {
  type?: string;
  data?: { action?: string; runId?: string; run_id?: string };
}

const statusUpdate = (event: RunEvent): string =>
  JSON.stringify({
    type: 'run_status_update',
    data: { ...event.data, run_id: event.runId, event: event.type, status: event.data.status },
  });

export async function wsRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/api/v1/ws', { websocket: true, schema: { hide: true } }, (socket: WebSocket) => {
    // No subscription means every run this key may see; once subscribed, only those runs.
    const subscriptions = new Set<string>();
    const send = (payload: string): void => {
      if (socket.readyState === socket.OPEN) socket.send(payload);
    };
    const unsubscribe = ctx.bus.subscribeAll((event) => {
      if (subscriptions.size === 0 || subscriptions.has(event.runId)) send(statusUpdate(event));
    });
    socket.on('close', unsubscribe);
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
            data: {
              message: 'Expected {type:"client_event", data:{action:"subscribe"|"unsubscribe", runId}}',
            },
          }),
        );
        return;
      }
      if (action === 'subscribe') subscriptions.add(runId);
      else subscriptions.delete(runId);
      send(JSON.stringify({ type: `${action}d`, data: { runId } }));
      if (action === 'subscribe') void sendCurrentStatus(ctx, runId, send);
    });
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
