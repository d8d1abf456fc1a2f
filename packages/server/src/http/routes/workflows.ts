import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context';
import { toWorkflowView } from '../../workflows/workflow-service';
import { ok } from '../envelope';

export async function workflowRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(
    '/api/v1/comfy/workflows',
    { schema: { summary: 'Deployed workflows with their inputs and outputs', tags: ['workflows'] } },
    async () => ok(ctx.workflows.list().map(toWorkflowView)),
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/comfy/workflows/:id',
    {
      schema: {
        summary: 'One workflow by id or name, with parsed input/output schemas',
        tags: ['workflows'],
      },
    },
    async (request) => ok(toWorkflowView(ctx.workflows.get(request.params.id))),
  );
}
