import { createHash, timingSafeEqual } from 'node:crypto';
import type { onRequestAsyncHookHandler } from 'fastify';
import type { KeyService } from '../../auth/key-service';
import { Forbidden, Unauthorized } from '../../errors';
import { presentedKey } from './auth';

/** Digests have one length whatever was sent, so the comparison leaks neither content nor length. */
const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

const bearerOf = (header: string | undefined): string | undefined => {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
};

/**
 * `/metrics` names backends and counts runs, so it needs an admin key or, for a Prometheus scraper that
 * should hold no API key, the metrics token as `Authorization: Bearer <token>`.
 */
export function metricsAccess(keys: KeyService, token: string | undefined): onRequestAsyncHookHandler {
  const expected = token === undefined ? undefined : digest(token);
  return async (request) => {
    const bearer = bearerOf(request.headers.authorization);
    if (expected && bearer !== undefined && timingSafeEqual(digest(bearer), expected)) return;
    const key = presentedKey(request.headers);
    const how = expected
      ? 'send an admin key in X-API-KEY, or the metrics token as Authorization: Bearer <token>'
      : 'send an admin key in X-API-KEY';
    if (!key) {
      throw new Unauthorized(
        bearer === undefined ? `Metrics need credentials: ${how}` : 'Invalid metrics token',
      );
    }
    const record = keys.recentlyAuthenticated(key) ?? (await keys.authenticate(key));
    if (!record) throw new Unauthorized('Invalid or revoked API key');
    if (record.role !== 'admin') throw new Forbidden(`Metrics need an admin key: ${how}`);
  };
}
