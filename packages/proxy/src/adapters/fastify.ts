import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FlowScaleProxyHandler } from '../core/proxy';
import { toNodeHandler } from './node';

// Structural types keep fastify an optional peer: nothing is imported from it at run time.
interface FastifyLike {
  removeAllContentTypeParsers(): void;
  addContentTypeParser(
    type: string,
    parser: (request: unknown, payload: unknown, done: (err: Error | null, body?: unknown) => void) => void,
  ): void;
  all(path: string, handler: (request: { raw: IncomingMessage }, reply: ReplyLike) => void): unknown;
}
interface ReplyLike {
  raw: ServerResponse;
  hijack(): unknown;
}

/**
 * A Fastify plugin: `await app.register(fastifyFlowScaleProxy(proxy))`. It lives in its own
 * encapsulated context, so turning off body parsing here leaves the app's other routes alone.
 */
export function fastifyFlowScaleProxy(handler: FlowScaleProxyHandler, options: { path?: string } = {}) {
  const nodeHandler = toNodeHandler(handler);
  return async function flowscaleProxyPlugin(fastify: FastifyLike): Promise<void> {
    fastify.removeAllContentTypeParsers();
    // Leave the body unread so the proxy can stream it (and refuse it without reading it).
    fastify.addContentTypeParser('*', (_request, _payload, done) => done(null));
    fastify.all(options.path ?? '/api/v1/*', (request, reply) => {
      reply.hijack();
      nodeHandler(request.raw, reply.raw);
    });
  };
}
