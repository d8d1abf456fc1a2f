import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { AppContext } from '../context';
import rateLimitPlugin from '../limits/limits-plugin';
import { registerErrorHandling } from './error-handler';
import authPlugin from './plugins/auth';
import { adminRoutes } from './routes/admin';
import { eventRoutes } from './routes/events';
import { outputRoutes } from './routes/outputs';
import { runRoutes } from './routes/runs';
import { systemRoutes } from './routes/system';
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
      items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } },
    },
  },
};

export async function buildApp(ctx: AppContext): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    bodyLimit: ctx.config.maxJsonBodyBytes,
    // One log line per request is a debugging aid, not an audit trail; it costs throughput at info level.
    logController: new LogController({
      disableRequestLogging: !['debug', 'trace'].includes(ctx.config.logLevel),
    }),
    return503OnClosing: true,
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false } },
  });
  registerErrorHandling(app);
  ctx.metrics.observeRequests(app);
  app.addSchema(ERROR_ENVELOPE_SCHEMA);

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'FlowScale-compatible server',
        version: '0.1.0',
        description: 'Self-hosted FlowScale pod API in front of ComfyUI backends.',
      },
      components: { securitySchemes: { APIKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-KEY' } } },
      security: [{ APIKeyHeader: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
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
    await api.register(rateLimitPlugin, { limit: ctx.config.rateLimit });
    for (const routes of [
      systemRoutes,
      workflowRoutes,
      runRoutes,
      outputRoutes,
      eventRoutes,
      wsRoutes,
      adminRoutes,
    ]) {
      await api.register(async (scope) => routes(scope, ctx));
    }
  });
  return app;
}
