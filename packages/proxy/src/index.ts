export { fastifyFlowScaleProxy } from './adapters/fastify';
export { honoFlowScaleProxy } from './adapters/hono';
export { toNextHandlers } from './adapters/next';
export { toNodeHandler } from './adapters/node';
export { type JwtAuthenticatorOptions, jwtAuthenticator } from './auth/jwt';
export {
  type Caller,
  createFlowScaleProxy,
  type FlowScaleProxyHandler,
  type FlowScaleProxyOptions,
  type ProxyContext,
} from './core/proxy';
export type { RateLimitOptions } from './core/rate-limit';
export { OPERATIONS, type Operation } from './core/routes';
