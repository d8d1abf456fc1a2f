import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context';
import type { KeyRole } from '../../storage/types';
import { toWorkflowView } from '../../workflows/workflow-service';
import { ok } from '../envelope';

interface DeployBody {
  name: string;
  description?: string;
  workflow: unknown;
  manifest?: unknown;
}

const admin = { admin: true };

export async function adminRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.post<{ Body: DeployBody }>(
    '/api/v1/admin/workflows',
    {
      config: admin,
      schema: {
        summary: 'Deploy (or re-deploy) a workflow',
        tags: ['admin'],
        body: {
          type: 'object',
          required: ['name', 'workflow'],
          properties: {
            name: { type: 'string' },
            description: { type: 'string' },
            workflow: { type: 'object' },
            manifest: { type: 'object' },
          },
        },
      },
    },
    async (request, reply) => {
      const existed = ctx.workflows.find(request.body.name) !== undefined;
      const deployment = await ctx.workflows.deploy({ ...request.body, source: 'api' });
      return reply.code(existed ? 200 : 201).send(ok(toWorkflowView(deployment)));
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/admin/workflows/:id',
    { config: admin, schema: { summary: 'Remove a deployed workflow (runs are kept)', tags: ['admin'] } },
    async (request) => {
      const removed = await ctx.workflows.remove(request.params.id);
      return ok({ id: removed.id, name: removed.name, deleted: true });
    },
  );

  app.get(
    '/api/v1/admin/keys',
    { config: admin, schema: { summary: 'API keys (never the key itself)', tags: ['admin'] } },
    async () => ok(await ctx.keys.list()),
  );

  app.post<{ Body: { name: string; role?: KeyRole } }>(
    '/api/v1/admin/keys',
    {
      config: admin,
      schema: {
        summary: 'Create an API key; the key is in this response only',
        tags: ['admin'],
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 100 },
            role: { type: 'string', enum: ['admin', 'user'] },
          },
        },
      },
    },
    async (request, reply) => {
      const { view, key } = await ctx.keys.create(request.body.name, request.body.role ?? 'user');
      return reply
        .code(201)
        .send(ok({ id: view.id, name: view.name, role: view.role, prefix: view.prefix, key }));
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/admin/keys/:id',
    { config: admin, schema: { summary: 'Revoke an API key', tags: ['admin'] } },
    async (request) => {
      await ctx.keys.revoke(request.params.id);
      return ok({ id: request.params.id, revoked: true });
    },
  );
}
