import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context';
import { BadRequest, RunNotFound, UnsupportedMediaType } from '../../errors';
import { type FormPart, noParts } from '../../inputs/form-parts';
import { admitRun } from '../../quotas/quotas';
import { acceptSubmission } from '../../runs/accept-submission';
import { metadataFilters } from '../../runs/metadata';
import type { RunOptionQuery } from '../../runs/run-options';
import type { RunFilter, RunStatus } from '../../storage/records';
import { ok } from '../envelope';
import { scopeOf } from '../scope';

interface SubmitQuery extends RunOptionQuery {
  workflow_id: string;
  group_id?: string;
  metadata?: string;
}

interface ListQuery {
  group_id?: string;
  status?: string;
  workflow_id?: string;
  created_after?: string;
  created_before?: string;
  project?: string;
  sort_by: 'created_at' | 'started_at' | 'completed_at';
  sort_order: 'asc' | 'desc';
  page: number;
  page_size: number;
}

const errorResponse = { $ref: 'ErrorEnvelope#' };

/** Checked in runs/run-options.ts (as for the form fields of the same names), so the 400s say the same. */
const runOptionParams = {
  priority: { type: 'string', description: 'low | normal | high: order in the server queue' },
  timeout: { type: 'string', description: 'Execution limit in ms (1..86400000); past it the run fails' },
};

const runOptionQuery = ({ priority, timeout }: RunOptionQuery): RunOptionQuery => ({
  ...(priority !== undefined ? { priority } : {}),
  ...(timeout !== undefined ? { timeout } : {}),
});
const MAX_IDEMPOTENCY_KEY = 255;
/** Far past any real listing, and small enough that page × page_size stays an exact SQL offset. */
const MAX_PAGE = 10_000_000;

/** @fastify/multipart's parts as the domain's plain ones; its parse errors pass through to the caller. */
async function* formParts(request: FastifyRequest): AsyncIterable<FormPart> {
  for await (const part of request.parts()) {
    if (part.type === 'field') {
      yield {
        kind: 'field',
        fieldname: part.fieldname,
        value: String(part.value),
        truncated: part.valueTruncated,
      };
      continue;
    }
    const stream = part.file;
    yield {
      kind: 'file',
      fieldname: part.fieldname,
      filename: part.filename,
      mimetype: part.mimetype,
      stream,
      truncated: () => stream.truncated,
    };
  }
}

/** The body's parts; no body at all means "use every default", and any other body is the wrong encoding. */
function bodyParts(request: FastifyRequest): AsyncIterable<FormPart> {
  if (request.isMultipart()) return formParts(request);
  const hasBody = Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'];
  if (hasBody || request.headers['content-type']) {
    throw new UnsupportedMediaType('Expected a multipart/form-data body with one part per input');
  }
  return noParts;
}

const isoDate = (name: string, value: string | undefined): string | undefined => {
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new BadRequest(`${name} must be an ISO 8601 date or date-time`);
  return new Date(time).toISOString();
};

/** The list filter beyond the group: statuses, workflow (by id or name) and a created-at window. */
function runFilter(ctx: AppContext, query: ListQuery): Omit<RunFilter, 'groupId'> {
  const createdAfter = isoDate('created_after', query.created_after);
  const createdBefore = isoDate('created_before', query.created_before);
  // A deleted workflow's runs are kept; its id still filters them.
  const workflowId =
    query.workflow_id === undefined
      ? undefined
      : (ctx.workflows.find(query.workflow_id)?.id ?? query.workflow_id);
  return {
    ...(query.status ? { statuses: query.status.split(',') as RunStatus[] } : {}),
    ...(workflowId !== undefined ? { workflowId } : {}),
    ...(createdAfter ? { createdAfter } : {}),
    ...(createdBefore ? { createdBefore } : {}),
  };
}

/** Whose runs `GET /runs` lists: the key's project; an admin's, every project or the one asked for. */
async function listedProject(
  ctx: AppContext,
  request: FastifyRequest<{ Querystring: ListQuery }>,
): Promise<string | null> {
  const scope = scopeOf(request);
  if (scope.projectId !== null) return scope.projectId;
  const asked = request.query.project;
  return asked === undefined ? null : (await ctx.projects.resolve(asked)).id;
}

export async function runRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.post<{ Querystring: SubmitQuery }>(
    '/api/v1/runs',
    {
      schema: {
        summary: 'Run a deployed workflow (multipart/form-data, one part per input)',
        tags: ['runs'],
        querystring: {
          type: 'object',
          required: ['workflow_id'],
          properties: {
            workflow_id: { type: 'string', minLength: 1 },
            group_id: { type: 'string', maxLength: 200 },
            metadata: { type: 'string', maxLength: 16 * 1024 },
            ...runOptionParams,
          },
        },
        headers: { type: 'object', properties: { 'idempotency-key': { type: 'string' } } },
        response: {
          404: errorResponse,
          409: errorResponse,
          413: errorResponse,
          422: errorResponse,
          429: errorResponse,
        },
      },
    },
    async (request, reply) => {
      const deployment = ctx.workflows.get(request.query.workflow_id, scopeOf(request));
      ctx.workflows.assertRunnable(deployment);
      const groupId = request.query.group_id ?? null;
      const idempotencyKey = request.headers['idempotency-key'];
      if (
        typeof idempotencyKey === 'string' &&
        (idempotencyKey === '' || idempotencyKey.length > MAX_IDEMPOTENCY_KEY)
      ) {
        throw new BadRequest(`Idempotency-Key must be 1–${MAX_IDEMPOTENCY_KEY} characters`);
      }
      // The project's quotas, before anything is read or stored.
      const projectId = request.apiKey?.projectId ?? '';
      const declared = Number(request.headers['content-length'] ?? 0) || 0;
      const limits = await ctx.projects.limitsOf(projectId);
      await admitRun(ctx.stores.runs, projectId, limits, declared);
      // Refused before the body is read when the queue is full; held until the run is recorded.
      const release = ctx.admission.reserve();
      let submission: Awaited<ReturnType<typeof acceptSubmission>>;
      try {
        submission = await acceptSubmission(ctx, {
          deployment,
          groupId,
          parts: bodyParts(request),
          idempotencyKey: typeof idempotencyKey === 'string' ? idempotencyKey : undefined,
          projectId,
          metadata: request.query.metadata,
          options: runOptionQuery(request.query),
          limits,
        });
      } finally {
        release();
      }
      const { run, replayed } = submission;
      if (replayed) reply.header('idempotent-replayed', 'true');
      const body = ok({
        run_id: run.id,
        workflow_id: run.workflowId,
        output_names: run.outputNames,
        status: run.status,
      });
      return reply.code(replayed ? 200 : 201).send(body);
    },
  );

  app.get<{ Querystring: ListQuery }>(
    '/api/v1/runs',
    {
      schema: {
        summary: "List the key's project's runs (an admin's: every project's), newest first by default",
        description:
          'Filter by metadata with `metadata.<key>=<value>` (up to 8): a string value matches itself, a number or boolean its JSON text.',
        tags: ['runs'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          patternProperties: { '^metadata\\.': { type: 'string', maxLength: 1024 } },
          properties: {
            group_id: { type: 'string' },
            status: {
              type: 'string',
              pattern:
                '^(queued|running|completed|failed|cancelled)(,(queued|running|completed|failed|cancelled))*$',
              description: 'One status, or several separated by commas',
            },
            workflow_id: { type: 'string', minLength: 1, maxLength: 200, description: 'Workflow id or name' },
            created_after: { type: 'string', description: 'ISO 8601; runs created at or after' },
            created_before: { type: 'string', description: 'ISO 8601; runs created before' },
            project: { type: 'string', maxLength: 100 },
            sort_by: {
              type: 'string',
              enum: ['created_at', 'started_at', 'completed_at'],
              default: 'created_at',
            },
            sort_order: { type: 'string', enum: ['asc', 'desc'], default: 'desc' },
            page: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: 1 },
            page_size: { type: 'integer', minimum: 1, maximum: 100, default: 10 },
          },
        },
      },
    },
    async (request) => {
      const {
        group_id: groupId,
        sort_by: sortBy,
        sort_order: sortOrder,
        page,
        page_size: pageSize,
      } = request.query;
      const projectId = await listedProject(ctx, request);
      const { runs, total } = await ctx.stores.runs.list({
        ...(groupId !== undefined ? { groupId } : {}),
        ...runFilter(ctx, request.query),
        ...(projectId !== null ? { projectId } : {}),
        metadata: metadataFilters(request.query as unknown as Record<string, unknown>),
        sortBy,
        sortOrder,
        page,
        pageSize,
      });
      return ok(
        {
          group_id: groupId ?? null,
          count: total,
          runs: await Promise.all(runs.map((run) => ctx.views.view(run))),
        },
        {
          page,
          page_size: pageSize,
          total_count: total,
          total_pages: Math.ceil(total / pageSize),
          sort_by: sortBy,
          sort_order: sortOrder,
          group_id: groupId ?? null,
        },
      );
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/runs/:id',
    { schema: { summary: 'One run', tags: ['runs'], response: { 404: errorResponse } } },
    async (request, reply) => {
      const body = await ctx.views.envelope(request.params.id, scopeOf(request));
      if (body === undefined) throw new RunNotFound(request.params.id);
      return reply.type('application/json; charset=utf-8').send(body);
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/v1/runs/:id/cancel',
    {
      schema: {
        summary: 'Cancel a queued or running run',
        tags: ['runs'],
        response: { 404: errorResponse, 409: errorResponse },
      },
    },
    async (request) => {
      await ctx.runs.cancel(request.params.id, scopeOf(request));
      return ok('Run cancelled successfully');
    },
  );
}
