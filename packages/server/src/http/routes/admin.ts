import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context';
import { invalidInputs } from '../../errors';
import { adminView } from '../../fleet/fleet-views';
import { parseRole } from '../../projects/scope';
import { ok } from '../envelope';

interface DeployBody {
  name: string;
  description?: string;
  workflow: unknown;
  manifest?: unknown;
  /** Projects (names or ids) that may use it; absent: every project. */
  projects?: string[];
}

interface KeyBody {
  name: string;
  role?: string;
  project?: string;
  expires_at?: string;
}

const admin = { admin: true };

/** An ISO time in the future, or a 422 naming the field. */
function expiryOf(value: string | undefined): string | null {
  if (value === undefined) return null;
  const at = Date.parse(value);
  if (Number.isNaN(at)) throw invalidInputs([{ field: 'expires_at', message: 'must be an ISO-8601 time' }]);
  if (at <= Date.now()) throw invalidInputs([{ field: 'expires_at', message: 'must be in the future' }]);
  return new Date(at).toISOString();
}

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
            projects: { type: 'array', maxItems: 100, items: { type: 'string', minLength: 1 } },
          },
        },
      },
    },
    async (request, reply) => {
      const { projects: names, ...body } = request.body;
      const projects = names
        ? [...new Set(await Promise.all(names.map(async (name) => (await ctx.projects.resolve(name)).id)))]
        : null;
      const existed = ctx.workflows.find(body.name) !== undefined;
      const deployment = await ctx.workflows.deploy({ ...body, projects, source: 'api' });
      await ctx.audit.record(request.apiKey, {
        action: 'workflow.deploy',
        target: deployment.id,
        details: { name: deployment.name, projects, redeployed: existed },
      });
      return reply.code(existed ? 200 : 201).send(ok(ctx.workflows.view(deployment)));
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/admin/workflows/:id',
    { config: admin, schema: { summary: 'Remove a deployed workflow (runs are kept)', tags: ['admin'] } },
    async (request) => {
      const removed = await ctx.workflows.remove(request.params.id);
      await ctx.audit.record(request.apiKey, {
        action: 'workflow.delete',
        target: removed.id,
        details: { name: removed.name },
      });
      return ok({ id: removed.id, name: removed.name, deleted: true });
    },
  );

  app.get<{ Querystring: { refresh?: boolean } }>(
    '/api/v1/admin/fleet',
    {
      config: admin,
      schema: {
        summary: "Each backend's inventory: node classes, models, devices (refresh=true reads it now)",
        tags: ['admin'],
        querystring: { type: 'object', properties: { refresh: { type: 'boolean' } } },
      },
    },
    async (request) => {
      if (request.query.refresh) await ctx.fleet.refreshAll();
      return ok(ctx.pool.list().map((backend) => adminView(ctx.fleet, backend, ctx.pool.status(backend))));
    },
  );

  app.get(
    '/api/v1/admin/keys',
    { config: admin, schema: { summary: 'API keys (never the key itself)', tags: ['admin'] } },
    async () => {
      const keys = await ctx.keys.list();
      return ok(
        await Promise.all(
          keys.map(async (key) => ({ ...key, project: await ctx.projects.nameOf(key.project_id) })),
        ),
      );
    },
  );

  app.post<{ Body: KeyBody }>(
    '/api/v1/admin/keys',
    {
      config: admin,
      schema: {
        summary: 'Create an API key in a project; the key is in this response only',
        tags: ['admin'],
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 100 },
            role: { type: 'string', enum: ['admin', 'member', 'viewer', 'user'] },
            project: { type: 'string', minLength: 1, maxLength: 100 },
            expires_at: { type: 'string', minLength: 1, maxLength: 40 },
          },
        },
      },
    },
    async (request, reply) => {
      const { name, role = 'member', project: projectName, expires_at: expiresAt } = request.body;
      const project = await ctx.projects.resolve(projectName ?? 'default');
      const { view, key } = await ctx.keys.create({
        name,
        role: parseRole(role) ?? 'member',
        projectId: project.id,
        expiresAt: expiryOf(expiresAt),
      });
      await ctx.audit.record(request.apiKey, {
        action: 'key.create',
        target: view.id,
        projectId: project.id,
        details: { name: view.name, role: view.role, expires_at: view.expires_at },
      });
      return reply.code(201).send(
        ok({
          id: view.id,
          name: view.name,
          role: view.role,
          project: project.name,
          project_id: project.id,
          prefix: view.prefix,
          expires_at: view.expires_at,
          key,
        }),
      );
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/admin/keys/:id',
    { config: admin, schema: { summary: 'Revoke an API key', tags: ['admin'] } },
    async (request) => {
      await ctx.keys.revoke(request.params.id);
      await ctx.audit.record(request.apiKey, { action: 'key.revoke', target: request.params.id });
      return ok({ id: request.params.id, revoked: true });
    },
  );
}
