import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context';
import { ok } from '../envelope';
import { scopeOf } from '../scope';

export async function workflowRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(
    '/api/v1/comfy/workflows',
    { schema: { summary: 'Deployed workflows with their inputs and outputs', tags: ['workflows'] } },
    async (request) =>
      ok(ctx.workflows.list(scopeOf(request)).map((deployment) => ctx.workflows.view(deployment))),
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/comfy/workflows/:id',
    {
      schema: {
        summary: 'One workflow by id or name, with parsed input/output schemas',
        tags: ['workflows'],
      },
    },
    async (request) => ok(ctx.workflows.view(ctx.workflows.get(request.params.id, scopeOf(request)))),
  );
}
