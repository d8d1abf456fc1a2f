import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../../storage/webhook-records';
import { DEFAULT_OVERLAP_MS } from '../../webhooks/secrets';
import { toDeliveryView, toEndpointView, toRunSecretView } from '../../webhooks/views';
import { ok } from '../envelope';

const admin = { admin: true };
const tags = ['webhooks'];
const errorResponse = { $ref: 'ErrorEnvelope#' };
const errors = { 400: errorResponse, 404: errorResponse, 409: errorResponse };
const events = {
  type: 'array',
  items: { type: 'string', enum: [...WEBHOOK_EVENT_TYPES] },
  minItems: 1,
  uniqueItems: true,
};
const url = { type: 'string', minLength: 1, maxLength: 2048 };
const project = { type: 'string', minLength: 1, maxLength: 200 };
const overlap = { type: 'integer', minimum: 0, maximum: 30 * 24 * 3600 };
const idParams = { type: 'object', properties: { id: { type: 'string', maxLength: 200 } } };
const deliveryParams = {
  type: 'object',
  properties: { id: { type: 'string', maxLength: 200 }, deliveryId: { type: 'string', maxLength: 200 } },
};

interface CreateBody {
  url: string;
  events?: WebhookEventType[];
  description?: string;
  project?: string;
  secret?: string;
}
interface UpdateBody {
  url?: string;
  events?: WebhookEventType[];
  description?: string;
  enabled?: boolean;
}
type Id = { Params: { id: string } };
type DeliveryId = { Params: { id: string; deliveryId: string } };

const overlapMs = (seconds: number | undefined): number =>
  seconds === undefined ? DEFAULT_OVERLAP_MS : seconds * 1000;

/** The admin API of webhook subscriptions, their secrets and delivery logs. */
export async function webhookRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const webhooks = ctx.webhooks.service;
  endpointRoutes(app, ctx);

  app.get<{ Querystring: { project?: string } }>(
    '/api/v1/admin/webhooks/run-secret',
    {
      config: admin,
      schema: {
        summary: "The project's secret signing per-run webhook_url deliveries",
        tags,
        querystring: { type: 'object', additionalProperties: false, properties: { project } },
      },
    },
    async (request) => {
      const projectId = request.query.project ?? 'default';
      return ok(toRunSecretView(projectId, await webhooks.runSecrets(projectId), true));
    },
  );

  app.post<{ Body: { project?: string; overlap_seconds?: number } | undefined }>(
    '/api/v1/admin/webhooks/run-secret/rotate',
    {
      config: admin,
      schema: {
        summary: 'Rotate the per-run webhook secret; the old one keeps signing during the overlap',
        tags,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { project, overlap_seconds: overlap },
        },
      },
    },
    async (request) => {
      const projectId = request.body?.project ?? 'default';
      const secrets = await webhooks.rotateRunSecrets(projectId, overlapMs(request.body?.overlap_seconds));
      return ok(toRunSecretView(projectId, secrets, true));
    },
  );

  app.get<Id & { Querystring: { limit: number } }>(
    '/api/v1/admin/webhooks/:id/deliveries',
    {
      config: admin,
      schema: {
        summary: "The endpoint's newest deliveries, each with every attempt",
        tags,
        params: idParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
        },
        response: errors,
      },
    },
    async (request) =>
      ok((await webhooks.deliveries(request.params.id, request.query.limit)).map(toDeliveryView)),
  );

  app.get<DeliveryId>(
    '/api/v1/admin/webhooks/:id/deliveries/:deliveryId',
    { config: admin, schema: { summary: 'One delivery', tags, params: deliveryParams, response: errors } },
    async (request) =>
      ok(toDeliveryView(await webhooks.delivery(request.params.id, request.params.deliveryId))),
  );

  app.post<DeliveryId>(
    '/api/v1/admin/webhooks/:id/deliveries/:deliveryId/redeliver',
    {
      config: admin,
      schema: {
        summary: 'Send a delivery again now (same webhook-id)',
        tags,
        params: deliveryParams,
        response: errors,
      },
    },
    async (request, reply) =>
      reply
        .code(202)
        .send(ok(toDeliveryView(await webhooks.redeliver(request.params.id, request.params.deliveryId)))),
  );

  app.post<Id>(
    '/api/v1/admin/webhooks/:id/test',
    {
      config: admin,
      schema: { summary: 'Send a webhook.test event', tags, params: idParams, response: errors },
    },
    async (request, reply) =>
      reply.code(202).send(ok(toDeliveryView(await webhooks.sendTest(request.params.id)))),
  );
}

function endpointRoutes(app: FastifyInstance, ctx: AppContext): void {
  const webhooks = ctx.webhooks.service;
  app.get<{ Querystring: { project?: string; run_id?: string } }>(
    '/api/v1/admin/webhooks',
    {
      config: admin,
      schema: {
        summary: "A project's webhook subscriptions, or the endpoint of one run (run_id)",
        tags,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { project, run_id: { type: 'string', maxLength: 200 } },
        },
      },
    },
    async (request) => {
      const { project: projectId, run_id: runId } = request.query;
      const list = await webhooks.list({
        ...(projectId !== undefined ? { projectId } : runId === undefined ? { projectId: 'default' } : {}),
        ...(runId !== undefined ? { runId } : {}),
      });
      return ok(list.map(toEndpointView));
    },
  );

  app.post<{ Body: CreateBody }>(
    '/api/v1/admin/webhooks',
    {
      config: admin,
      schema: {
        summary: 'Subscribe a URL to run events; the signing secret is in this response only',
        tags,
        body: {
          type: 'object',
          required: ['url'],
          additionalProperties: false,
          properties: {
            url,
            events,
            description: { type: 'string', maxLength: 500 },
            project,
            secret: { type: 'string', maxLength: 200 },
          },
        },
        response: errors,
      },
    },
    async (request, reply) => {
      const body = request.body;
      const { endpoint, secret } = await webhooks.create({
        url: body.url,
        events: body.events ?? [...WEBHOOK_EVENT_TYPES],
        description: body.description ?? '',
        projectId: body.project ?? 'default',
        ...(body.secret !== undefined ? { secret: body.secret } : {}),
      });
      return reply.code(201).send(ok({ ...toEndpointView(endpoint), secret }));
    },
  );

  app.get<Id>(
    '/api/v1/admin/webhooks/:id',
    { config: admin, schema: { summary: 'One webhook endpoint', tags, params: idParams, response: errors } },
    async (request) => ok(toEndpointView(await webhooks.get(request.params.id))),
  );

  app.patch<Id & { Body: UpdateBody }>(
    '/api/v1/admin/webhooks/:id',
    {
      config: admin,
      schema: {
        summary: 'Change an endpoint; enabled: true turns a disabled one back on',
        tags,
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            url,
            events,
            description: { type: 'string', maxLength: 500 },
            enabled: { type: 'boolean' },
          },
        },
        response: errors,
      },
    },
    async (request) => ok(toEndpointView(await webhooks.update(request.params.id, request.body))),
  );

  app.delete<Id>(
    '/api/v1/admin/webhooks/:id',
    {
      config: admin,
      schema: { summary: 'Delete an endpoint and its log', tags, params: idParams, response: errors },
    },
    async (request) => {
      await webhooks.remove(request.params.id);
      return ok({ id: request.params.id, deleted: true });
    },
  );

  app.post<Id & { Body: { overlap_seconds?: number } | undefined }>(
    '/api/v1/admin/webhooks/:id/rotate-secret',
    {
      config: admin,
      schema: {
        summary: 'A new signing secret; the old ones keep signing during the overlap (default a day)',
        tags,
        params: idParams,
        body: { type: 'object', additionalProperties: false, properties: { overlap_seconds: overlap } },
        response: errors,
      },
    },
    async (request) => {
      const rotated = await webhooks.rotateSecret(
        request.params.id,
        overlapMs(request.body?.overlap_seconds),
      );
      return ok({ ...toEndpointView(rotated.endpoint), secret: rotated.secret });
    },
  );
}
