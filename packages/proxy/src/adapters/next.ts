import type { FlowScaleProxyHandler } from '../core/proxy';

type RouteHandler = (request: Request) => Promise<Response>;

/**
 * Route handlers for a Next.js App Router catch-all route, e.g. `app/api/v1/[...path]/route.ts`:
 * `export const { GET, POST } = toNextHandlers(proxy);` (with `export const runtime = 'nodejs'`
 * and `export const dynamic = 'force-dynamic'` so nothing is cached).
 */
export function toNextHandlers(handler: FlowScaleProxyHandler): {
  GET: RouteHandler;
  HEAD: RouteHandler;
  POST: RouteHandler;
} {
  const route: RouteHandler = (request) =>
    handler(request, { clientAddress: request.headers.get('x-forwarded-for')?.split(',')[0]?.trim() });
  return { GET: route, HEAD: route, POST: route };
}
