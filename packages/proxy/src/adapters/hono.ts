import type { FlowScaleProxyHandler } from '../core/proxy';

interface HonoContextLike {
  req: { raw: Request };
}

/** A Hono handler: `app.all('/api/v1/*', honoFlowScaleProxy(proxy))`. */
export function honoFlowScaleProxy(
  handler: FlowScaleProxyHandler,
): (c: HonoContextLike) => Promise<Response> {
  return (c) => handler(c.req.raw);
}
