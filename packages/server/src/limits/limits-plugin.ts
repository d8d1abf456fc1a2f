import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { tooManyRequests } from '../errors';
import { type RateLimit, RateLimiter } from './rate-limit';

/**
 * Per-API-key request rate limit. Runs after the auth hook (registered after it, same scope), so it sees
 * `request.apiKey`; public routes (health, docs, signed downloads) carry no key and are not limited here.
 */
/** Takes one request for a key: 0 when allowed, else how many ms until it would be. */
export interface RateTaker {
  take(key: string): number;
}

async function rateLimitPlugin(
  app: FastifyInstance,
  options: { limit: RateLimit | null; shared?: RateTaker },
): Promise<void> {
  const { limit } = options;
  if (!limit) return;
  // Several replicas count in the shared store; one process alone keeps its buckets in memory.
  const limiter: RateTaker = options.shared ?? new RateLimiter(limit);
  app.addHook('onRequest', (request, _reply, done) => {
    const key = request.apiKey;
    if (!key) return done();
    const waitMs = limiter.take(key.id);
    if (waitMs === 0) return done();
    done(
      tooManyRequests(
        'RATE_LIMITED',
        `Rate limit of ${limit.requests} requests per ${limit.windowMs / 1000} s exceeded for this API key`,
        waitMs,
      ),
    );
  });
}

export default fp(rateLimitPlugin, { name: 'flowscale-rate-limit', fastify: '5.x' });
