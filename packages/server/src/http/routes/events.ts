import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context';
import { BadRequest, RunNotFound } from '../../errors';
import { SseWriter } from '../../events/sse';
import { isTerminal } from '../../storage/records';
import { scopeOf } from '../scope';

/** Event seqs are 32-bit integers in the store; a larger cursor could only fail the query. */
const MAX_SEQ = 2_147_483_647;

/** `?from_seq=N` replays seq ≥ N; `Last-Event-ID: N` (what EventSource sends on reconnect) replays seq > N. */
function startSeq(fromSeq: number | undefined, lastEventId: string | string[] | undefined): number {
  if (fromSeq !== undefined) return Math.max(1, fromSeq);
  if (typeof lastEventId === 'string' && lastEventId !== '') {
    const seq = /^\d{1,10}$/.test(lastEventId) ? Number(lastEventId) : Number.NaN;
    if (!(seq < MAX_SEQ)) {
      throw new BadRequest(`Last-Event-ID must be an integer from 0 to ${MAX_SEQ - 1}`);
    }
    return seq + 1;
  }
  return 1;
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

export async function eventRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  // Open streams are ended on shutdown; otherwise the server would wait on them forever. One timer pings
  // them all (a timer per stream costs more with thousands of streams).
  const open = new Set<SseWriter>();
  const ping = setInterval(() => {
    for (const writer of open) writer.ping();
  }, ctx.config.ssePingMs);
  ping.unref();
  app.addHook('preClose', async () => {
    clearInterval(ping);
    for (const writer of open) writer.close();
  });

  app.get<{ Params: { id: string }; Querystring: { from_seq?: number } }>(
    '/api/v1/runs/:id/events',
    {
      schema: {
        summary: "A run's events as Server-Sent Events, with replay",
        tags: ['runs'],
        querystring: {
          type: 'object',
          properties: { from_seq: { type: 'integer', minimum: 0, maximum: MAX_SEQ } },
        },
      },
    },
    async (request, reply) => {
      const runId = request.params.id;
      const fromSeq = startSeq(request.query.from_seq, request.headers['last-event-id']);
      if (!(await ctx.access.find(runId, scopeOf(request)))) throw new RunNotFound(runId);

      reply.hijack();
      let unsubscribe = (): void => undefined;
      const writer = new SseWriter(reply.raw, fromSeq, () => {
        unsubscribe();
        open.delete(writer);
      });
      writer.open(SSE_HEADERS);
      open.add(writer);
      unsubscribe = ctx.bus.subscribe(runId, (event) => writer.push(event));
      reply.raw.on('close', () => writer.close());

      // Subscribed first, read second: an event is in the replay, or arrives live, or both (written once).
      await ctx.bus.ready(runId);
      writer.replay(await ctx.stores.events.list(runId, fromSeq));
      if (writer.closed) return;
      // A finished run has all its events in the log: write what is left (if anything) and end. This also
      // ends a stream opened past the terminal event, whose terminal event will never come live.
      const run = await ctx.stores.runs.get(runId);
      if (run && isTerminal(run.status) && !writer.closed) {
        writer.replay(await ctx.stores.events.list(runId, writer.nextSeq));
        writer.close();
      }
    },
  );
}
