import {
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';

/**
 * A SERVER span per request, continuing the caller's `traceparent`. Each route's handler runs inside the
 * span's context, so run code reached from it (a submit) can capture the trace to store with the run.
 * Added before the routes are registered (the handlers are wrapped as each route is added).
 */
export function traceRequests(app: FastifyInstance, tracer: Tracer): void {
  const contexts = new WeakMap<FastifyRequest, Context>();
  const end = (request: FastifyRequest, statusCode: number | undefined): void => {
    const span = trace.getSpan(contexts.get(request) ?? ROOT_CONTEXT);
    if (!span) return;
    contexts.delete(request);
    if (statusCode === undefined) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'client closed the request' });
    } else {
      span.setAttribute('http.response.status_code', statusCode);
      if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  };
  app.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url;
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const span = tracer.startSpan(
      route ? `${request.method} ${route}` : request.method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          // The path only: a signed download URL carries its signature in the query.
          'url.path': request.url.split('?', 1)[0],
          ...(route ? { 'http.route': route } : {}),
        },
      },
      parent,
    );
    contexts.set(request, trace.setSpan(parent, span));
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    end(request, reply.statusCode);
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    end(request, undefined);
    done();
  });
  app.addHook('onRoute', (route: RouteOptions & { websocket?: boolean }) => {
    // WebSocket handlers take (socket, request); their upgrade request gets its span all the same.
    if (route.websocket) return;
    const handler = route.handler;
    route.handler = function traced(this: unknown, request: FastifyRequest, ...rest: unknown[]) {
      const active = contexts.get(request);
      const call = () => (handler as (...args: unknown[]) => unknown).call(this, request, ...rest);
      return active ? context.with(active, call) : call();
    } as RouteOptions['handler'];
  });
}
