import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context';
import { toProjectView } from '../../projects/project-service';
import { checkLimits, QUOTA_NAMES } from '../../quotas/quotas';
import { ok } from '../envelope';

const admin = { admin: true };

interface AuditQuerystring {
  limit: number;
  before?: string;
  action?: string;
}

/** Projects (tenants) and the audit log: admin keys only. */
export async function projectRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(
    '/api/v1/admin/projects',
    { config: admin, schema: { summary: 'Projects', tags: ['admin'] } },
    async () => ok((await ctx.projects.list()).map(toProjectView)),
  );

  app.post<{ Body: { name: string } }>(
    '/api/v1/admin/projects',
    {
      config: admin,
      schema: {
        summary: 'Create a project',
        tags: ['admin'],
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: { name: { type: 'string', minLength: 1, maxLength: 100 } },
        },
      },
    },
    async (request, reply) => {
      const project = await ctx.projects.create(request.body.name);
      await ctx.audit.record(request.apiKey, {
        action: 'project.create',
        target: project.id,
        projectId: project.id,
        details: { name: project.name },
      });
      return reply.code(201).send(ok(toProjectView(project)));
    },
  );

  app.put<{ Params: { id: string }; Body: Record<string, unknown> }>(
    '/api/v1/admin/projects/:id/limits',
    {
      config: admin,
      schema: {
        summary: `Set a project's quotas (${QUOTA_NAMES.join(', ')}); those left out are unlimited`,
        tags: ['admin'],
        body: { type: 'object' },
      },
    },
    async (request) => {
      const limits = checkLimits(request.body);
      const project = await ctx.projects.setLimits(
        request.params.id,
        Object.keys(limits).length > 0 ? limits : null,
      );
      await ctx.audit.record(request.apiKey, {
        action: 'project.limits',
        target: project.id,
        projectId: project.id,
        details: { limits },
      });
      return ok(toProjectView(project));
    },
  );

  app.get<{ Querystring: AuditQuerystring }>(
    '/api/v1/admin/audit',
    {
      config: admin,
      schema: {
        summary: 'Admin actions, newest first',
        tags: ['admin'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
            before: { type: 'string', format: 'date-time' },
            action: { type: 'string', maxLength: 100 },
          },
        },
      },
    },
    async (request) => {
      const { limit, before, action } = request.query;
      return ok(
        await ctx.audit.list({
          limit,
          ...(before !== undefined ? { before: new Date(before).toISOString() } : {}),
          ...(action !== undefined ? { action } : {}),
        }),
      );
    },
  );
}
