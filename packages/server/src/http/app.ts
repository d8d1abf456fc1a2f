import { randomUUID } from 'node:crypto';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { AppContext } from '../context';
import rateLimitPlugin from '../limits/limits-plugin';
import { registerErrorHandling } from './error-handler';
import { finishDocument } from './openapi/document';
import authPlugin from './plugins/auth';
import { refuseNonFiniteNumbers } from './plugins/finite-numbers';
import { adminRoutes } from './routes/admin';
import { dashboardRoutes } from './routes/dashboard';
import { eventRoutes } from './routes/events';
import { outputRoutes } from './routes/outputs';
import { projectRoutes } from './routes/projects';
import { runInputRoutes } from './routes/run-inputs';
import { runRoutes } from './routes/runs';
import { systemRoutes } from './routes/system';
import { usageRoutes } from './routes/usage';
import { webhookRoutes } from './routes/webhooks';
import { workflowRoutes } from './routes/workflows';
import { registerWebSocket, wsRoutes } from './routes/ws';

const ERROR_ENVELOPE_SCHEMA = {
  $id: 'ErrorEnvelope',
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['error'] },
    errors: { type: 'string' },
    code: { type: 'string' },
    details: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          field: { type: 'string' },
          message: { type: 'string' },
          kind: { type: 'string' },
          node_id: { type: 'string' },
          class_type: { type: 'string' },
          input: { type: 'string' },
        },
      },
    },
  },
};

export interface RouteSummary {
  method: string;
  url: string;
  /** Query parameters its schema declares. */
  query: string[];
}

const routeLists = new WeakMap<FastifyInstance, RouteSummary[]>();

/** Every route the app serves, hidden ones included (tests enumerate them to fuzz every endpoint). */
export const listRoutes = (app: FastifyInstance): RouteSummary[] => [...(routeLists.get(app) ?? [])];

export async function buildApp(ctx: AppContext): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    bodyLimit: ctx.config.maxJsonBodyBytes,
    // One log line per request is a debugging aid, not an audit trail; it costs throughput at info level.
    logController: new LogController({
      disableRequestLogging: !['debug', 'trace'].includes(ctx.config.logLevel),
    }),
    return503OnClosing: true,
    // UUIDs, not fastify's req-1, req-2: unique across replicas and the embedded engine in the same log.
    genReqId: () => randomUUID(),
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false } },
  });
  const routes: RouteSummary[] = [];
  routeLists.set(app, routes);
  app.addHook('onRoute', ({ method, url, schema }) => {
    const properties = (schema?.querystring as { properties?: object } | undefined)?.properties;
    const query = Object.keys(properties ?? {});
    for (const one of Array.isArray(method) ? method : [method]) routes.push({ method: one, url, query });
  });
  registerErrorHandling(app);
  ctx.telemetry?.traceRequests(app);
  refuseNonFiniteNumbers(app);
  ctx.metrics.observeRequests(app);
  app.addSchema(ERROR_ENVELOPE_SCHEMA);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'FlowScale-compatible server',
        version: '0.1.0',
        description: 'Self-hosted FlowScale pod API in front of ComfyUI backends.',
      },
      components: { securitySchemes: { APIKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-KEY' } } },
      security: [{ APIKeyHeader: [] }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    transformObject: (documentObject) =>
      finishDocument(
        (documentObject as { openapiObject: Parameters<typeof finishDocument>[0] }).openapiObject,
        ctx.publicUrl(),
      ),
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    theme: { title: 'FlowScale server API' },
    uiConfig: { docExpansion: 'list' },
  });
  await app.register(multipart, {
    limits: {
      fileSize: ctx.config.maxFileBytes,
      fieldSize: ctx.config.maxFieldBytes,
      parts: ctx.config.maxParts,
      fields: ctx.config.maxParts,
      files: ctx.config.maxParts,
    },
  });

  await registerWebSocket(app);

  // Everything in here needs an API key unless the route says `config: { public: true }`.
  await app.register(async (api) => {
    await api.register(authPlugin, { keys: ctx.keys });
    await api.register(rateLimitPlugin, {
      limit: ctx.config.rateLimit,
      ...(ctx.sharedRateLimit ? { shared: ctx.sharedRateLimit } : {}),
    });
    for (const routes of [
      systemRoutes,
      workflowRoutes,
      runRoutes,
      outputRoutes,
      eventRoutes,
      wsRoutes,
      adminRoutes,
      runInputRoutes,
      dashboardRoutes,
      webhookRoutes,
      projectRoutes,
      usageRoutes,
    ]) {
      await api.register(async (scope) => routes(scope, ctx));
    }
  });
  return app;
}
