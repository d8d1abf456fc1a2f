import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context';
import { BadRequest, ProjectNotFound } from '../../errors';
import { usageReport } from '../../usage/report';
import { usageDay } from '../../usage/usage';
import { ok } from '../envelope';
import { scopeOf } from '../scope';

interface UsageQuery {
  from?: string;
  to?: string;
  project?: string;
}

/** A year and a day: a leap year's whole, with either end inclusive. */
const MAX_DAYS = 366;
const DEFAULT_DAYS = 30;
const DAY_MS = 86_400_000;
const errorResponse = { $ref: 'ErrorEnvelope#' };

/** A real calendar day as `YYYY-MM-DD`, in ms at its UTC start; 400 naming the parameter otherwise. */
function dayParam(name: string, value: string): number {
  const ms = Date.parse(`${value}T00:00:00Z`);
  if (
    !/^\d{4}-\d{2}-\d{2}$/.test(value) ||
    Number.isNaN(ms) ||
    new Date(ms).toISOString().slice(0, 10) !== value
  )
    throw new BadRequest(`${name} must be a calendar day as YYYY-MM-DD, got ${JSON.stringify(value)}`);
  return ms;
}

function dayRange(query: UsageQuery): { from: string; to: string } {
  const toMs = query.to === undefined ? Date.parse(usageDay(new Date()).start) : dayParam('to', query.to);
  const fromMs = query.from === undefined ? toMs - (DEFAULT_DAYS - 1) * DAY_MS : dayParam('from', query.from);
  if (fromMs > toMs) throw new BadRequest(`from (${query.from}) is after to (${query.to ?? 'today'})`);
  if ((toMs - fromMs) / DAY_MS + 1 > MAX_DAYS)
    throw new BadRequest(
      `The range from ${query.from} to ${query.to ?? 'today'} is longer than ${MAX_DAYS} days`,
    );
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return { from: day(fromMs), to: day(toMs) };
}

/**
 * Whose usage: a non-admin key's own project only (another project is as unknown as a missing one, so
 * names cannot be probed); an admin's, the project asked for or every project (null).
 */
async function usageProject(ctx: AppContext, request: FastifyRequest<{ Querystring: UsageQuery }>) {
  const own = scopeOf(request).projectId;
  const asked = request.query.project;
  if (asked === undefined) return own;
  const project = await ctx.projects.resolve(asked);
  if (own !== null && project.id !== own) throw new ProjectNotFound(asked);
  return project.id;
}

export async function usageRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get<{ Querystring: UsageQuery }>(
    '/api/v1/usage',
    {
      schema: {
        summary: "Usage per project and UTC day: the key's project's (an admin's: any or every project's)",
        tags: ['usage'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            from: {
              type: 'string',
              maxLength: 10,
              description: 'First day, YYYY-MM-DD (default: 29 days before `to`)',
            },
            to: {
              type: 'string',
              maxLength: 10,
              description: 'Last day, YYYY-MM-DD, inclusive (default: today, UTC)',
            },
            project: { type: 'string', minLength: 1, maxLength: 100, description: 'Project id or name' },
          },
        },
        response: { 400: errorResponse, 404: errorResponse },
      },
    },
    async (request) => {
      const { from, to } = dayRange(request.query);
      const projectId = await usageProject(ctx, request);
      const rows = await ctx.stores.usage.list(from, to, projectId ?? undefined);
      const names = new Map<string, string>();
      for (const id of new Set(rows.map((row) => row.projectId)))
        names.set(id, await ctx.projects.nameOf(id));
      return ok({ from, to, projects: usageReport(rows, (id) => names.get(id) ?? id) });
    },
  );
}
