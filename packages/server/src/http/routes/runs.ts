import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context';
import { acceptSubmission } from '../../runs/accept-submission';
import { ok } from '../envelope';
import { BadRequest, RunNotFound } from '../errors';

interface SubmitQuery {
  workflow_id: string;
  group_id?: string;
}

interface ListQuery {
  group_id?: string;
  sort_by: 'created_at' | 'started_at' | 'completed_at';
  sort_order: 'asc' | 'desc';
  page: number;
  page_size: number;
}

const errorResponse = { $ref: 'ErrorEnvelope#' };
const MAX_IDEMPOTENCY_KEY = 255;

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
      const deployment = ctx.workflows.get(request.query.workflow_id);
      const groupId = request.query.group_id ?? null;
      const idempotencyKey = request.headers['idempotency-key'];
      if (
        typeof idempotencyKey === 'string' &&
        (idempotencyKey === '' || idempotencyKey.length > MAX_IDEMPOTENCY_KEY)
      ) {
        throw new BadRequest(`Idempotency-Key must be 1–${MAX_IDEMPOTENCY_KEY} characters`);
      }
      // Refused before the body is read when the queue is full; held until the run is recorded.
      const release = ctx.admission.reserve();
      let submission: Awaited<ReturnType<typeof acceptSubmission>>;
      try {
        submission = await acceptSubmission(
          ctx,
          request,
          deployment,
          groupId,
          typeof idempotencyKey === 'string' ? idempotencyKey : undefined,
        );
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
        summary: 'List runs, newest first by default',
        tags: ['runs'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            group_id: { type: 'string' },
            sort_by: {
              type: 'string',
              enum: ['created_at', 'started_at', 'completed_at'],
              default: 'created_at',
            },
            sort_order: { type: 'string', enum: ['asc', 'desc'], default: 'desc' },
            page: { type: 'integer', minimum: 1, default: 1 },
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
      const { runs, total } = await ctx.storage.listRuns({
        ...(groupId !== undefined ? { groupId } : {}),
        sortBy,
        sortOrder,
        page,
        pageSize,
      });
      return ok(
        { group_id: groupId ?? null, count: total, runs: runs.map((run) => ctx.views.view(run)) },
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
      const body = await ctx.views.envelope(request.params.id);
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
      await ctx.runs.cancel(request.params.id);
      return ok('Run cancelled successfully');
    },
  );
}
