import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context';
import { healthFields } from '../../fleet/fleet-views';
import { projectQueue } from '../../projects/queue-view';
import type { Run } from '../../storage/records';
import { ok } from '../envelope';
import { metricsAccess } from '../plugins/metrics-access';
import { scopeOf } from '../scope';

const LANDING_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>FlowScale server</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>FlowScale-compatible API</h1>
<p>Send your API key in the <code>X-API-KEY</code> header.</p>
<ul><li><a href="dashboard/">Dashboard</a>: runs, outputs, workflows, fleet and keys</li><li><a href="/docs">Interactive API docs</a></li><li><a href="/openapi.json">OpenAPI document</a></li></ul>
</body></html>`;

export async function systemRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(
    '/healthz',
    { config: { public: true }, schema: { summary: 'Liveness', tags: ['system'] } },
    async () => ok({ ok: true }),
  );

  // Readiness, for load balancers and orchestrators: can this replica reach its database right now?
  app.get(
    '/readyz',
    { config: { public: true }, schema: { summary: 'Readiness: the database answers', tags: ['system'] } },
    async (_request, reply) => {
      try {
        await ctx.stores.ping();
        return { status: 'ready' };
      } catch (error) {
        return reply
          .code(503)
          .send({ status: 'unavailable', reason: `database: ${(error as Error).message}` });
      }
    },
  );

  app.get('/', { config: { public: true }, schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(LANDING_PAGE),
  );

  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());

  app.get(
    '/api/v1/comfy/health',
    { schema: { summary: 'Status of each backend container', tags: ['comfy'] } },
    async () =>
      ok(
        ctx.pool.list().map((backend) => ({
          container: backend.name,
          status: ctx.pool.status(backend),
          ...healthFields(ctx.fleet, backend),
        })),
      ),
  );

  app.get(
    '/api/v1/comfy/queue',
    {
      schema: {
        summary:
          "Each backend's ComfyUI queue; a project's key sees only its own runs, as [position, run_id]",
        tags: ['comfy'],
      },
    },
    async (request) => {
      const queues = await ctx.pool.queues();
      const { projectId } = scopeOf(request);
      if (projectId === null) {
        return ok(
          queues.map(({ container, queue }) => ({
            container,
            queue: queue ?? { queue_running: [], queue_pending: [] },
          })),
        );
      }
      const unfinished = await ctx.stores.runs.listUnfinished();
      const mine = new Map<string, Run>();
      for (const run of unfinished) if (run.projectId === projectId) mine.set(run.promptId, run);
      return ok(queues.map(({ container, queue }) => projectQueue(container, queue, mine)));
    },
  );

  // Not behind the key hook: a scraper may hold only the metrics token.
  app.get(
    '/metrics',
    {
      config: { public: true },
      schema: { hide: true },
      onRequest: metricsAccess(ctx.keys, ctx.config.metricsToken),
    },
    async (_request, reply) =>
      reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics()),
  );
}
