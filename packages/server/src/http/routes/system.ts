import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context';
import { ok } from '../envelope';

const LANDING_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>FlowScale server</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>FlowScale-compatible API</h1>
<p>Send your API key in the <code>X-API-KEY</code> header.</p>
<ul><li><a href="/docs">Interactive API docs</a></li><li><a href="/openapi.json">OpenAPI document</a></li></ul>
</body></html>`;

export async function systemRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(
    '/healthz',
    { config: { public: true }, schema: { summary: 'Liveness', tags: ['system'] } },
    async () => ok({ ok: true }),
  );

  app.get('/', { config: { public: true }, schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(LANDING_PAGE),
  );

  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());

  app.get(
    '/api/v1/comfy/health',
    { schema: { summary: 'Status of each backend container', tags: ['comfy'] } },
    async () =>
      ok(ctx.pool.list().map((backend) => ({ container: backend.name, status: ctx.pool.status(backend) }))),
  );

  app.get(
    '/api/v1/comfy/queue',
    { schema: { summary: "Each backend's ComfyUI queue", tags: ['comfy'] } },
    async () =>
      ok(
        (await ctx.pool.queues()).map(({ container, queue }) => ({
          container,
          queue: queue ?? { queue_running: [], queue_pending: [] },
        })),
      ),
  );

  app.get('/metrics', { config: { public: true }, schema: { hide: true } }, async (_request, reply) =>
    reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics()),
  );
}
