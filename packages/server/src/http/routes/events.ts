import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context';
import { SseWriter } from '../../events/sse';
import { isTerminal } from '../../storage/types';
import { BadRequest, RunNotFound } from '../errors';

/** `?from_seq=N` replays seq ≥ N; `Last-Event-ID: N` (what EventSource sends on reconnect) replays seq > N. */
function startSeq(fromSeq: string | undefined, lastEventId: string | string[] | undefined): number {
  if (fromSeq !== undefined) {
    if (!/^\d+$/.test(fromSeq)) throw new BadRequest('from_seq must be a non-negative integer');
    return Math.max(1, Number(fromSeq));
  }
  if (typeof lastEventId === 'string' && lastEventId !== '') {
    if (!/^\d+$/.test(lastEventId)) throw new BadRequest('Last-Event-ID must be a non-negative integer');
    return Number(lastEventId) + 1;
  }
  return 1;
}

export async function eventRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  // Open streams are ended on shutdown; otherwise the server would wait on them forever.
  const open = new Set<SseWriter>();
  app.addHook('preClose', async () => {
    for (const writer of open) writer.close();
  });

  app.get<{ Params: { id: string }; Querystring: { from_seq?: string } }>(
    '/api/v1/runs/:id/events',
    { schema: { summary: "A run's events as Server-Sent Events, with replay", tags: ['runs'] } },
    async (request, reply) => {
      const runId = request.params.id;
      const fromSeq = startSeq(request.query.from_seq, request.headers['last-event-id']);
      if (!(await ctx.storage.getRun(runId))) throw new RunNotFound(runId);

      reply.hijack();
      const response = reply.raw;
      response.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      response.write(': connected\n\n');

      let ping: NodeJS.Timeout | undefined;
      let unsubscribe = (): void => undefined;
      const writer = new SseWriter(response, fromSeq, () => {
        clearInterval(ping);
        unsubscribe();
        open.delete(writer);
      });
      open.add(writer);
      unsubscribe = ctx.bus.subscribe(runId, (event) => writer.push(event));
      response.on('close', () => writer.close());

      writer.replay(await ctx.storage.listEvents(runId, fromSeq));
      if (writer.closed) return;
      // Asked to start past the terminal event: nothing more will ever come.
      const run = await ctx.storage.getRun(runId);
      if (run && isTerminal(run.status) && !writer.closed) {
        const events = await ctx.storage.listEvents(runId, fromSeq);
        if (events.length === 0) writer.close();
      }
      if (!writer.closed) ping = setInterval(() => writer.ping(), ctx.config.ssePingMs);
    },
  );
}
