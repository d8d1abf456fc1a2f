import multipart from '@fastify/multipart';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { sendEmpty } from './body';
import { originAllowed } from './origin';
import { historyRoutes } from './routes/history';
import { infoRoutes } from './routes/info';
import { promptRoutes } from './routes/prompt';
import { queueRoutes } from './routes/queue';
import { uploadRoutes } from './routes/upload';
import { viewRoutes } from './routes/view';
import type { EngineState } from './state';

function routes(app: FastifyInstance, state: EngineState): void {
  promptRoutes(app, state);
  queueRoutes(app, state);
  historyRoutes(app, state);
  viewRoutes(app, state);
  uploadRoutes(app, state);
  infoRoutes(app, state);
}

export async function buildApp(state: EngineState, log: FastifyBaseLogger): Promise<FastifyInstance> {
  // Closing cuts every connection: a keep-alive connection that Node does not count as idle would
  // otherwise hold close() open indefinitely (seen after /view responses).
  const app = Fastify({
    loggerInstance: log,
    bodyLimit: state.limits.maxJsonBytes,
    forceCloseConnections: true,
  });
  await app.register(multipart, { limits: { fileSize: state.limits.maxUploadBytes, files: 4, fields: 32 } });
  // Raw buffers for every other content type: routes parse JSON themselves, so malformed JSON gets a
  // clear 400 (ComfyUI reads the body as JSON whatever the Content-Type says, and answers a bare 500).
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.addHook('onRequest', async (req, reply) => {
    if (!originAllowed(req.headers)) return sendEmpty(reply, 403);
  });
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err }, 'request failed');
    return reply.code(status).send({ error: { type: err.code ?? 'internal_error', message: err.message } });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: { type: 'not_found', message: `No route for ${req.method} ${req.url}` } }),
  );
  app.options('/*', (_req, reply) => sendEmpty(reply));

  routes(app, state);
  await app.register(async (api) => routes(api, state), { prefix: '/api' });
  return app;
}
