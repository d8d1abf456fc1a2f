import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isExpired, type KeyService } from '../../auth/key-service';
import { Forbidden, KeyExpired, Unauthorized } from '../../errors';
import type { ApiKeyRecord } from '../../storage/records';

declare module 'fastify' {
  interface FastifyRequest {
    apiKey: ApiKeyRecord | null;
  }
  interface FastifyContextConfig {
    /** Route needs no API key (liveness, docs, signed downloads). */
    public?: boolean;
    /** Route needs an admin key. */
    admin?: boolean;
  }
}

const KEY_SUBPROTOCOL = 'flowscale.key.';
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Browsers cannot set headers on a WebSocket, so the key may arrive as a `flowscale.key.<key>` subprotocol. */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const header = headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header;
  const protocols = headers['sec-websocket-protocol'];
  if (typeof protocols !== 'string') return undefined;
  const offered = protocols.split(',').map((protocol) => protocol.trim());
  return offered.find((protocol) => protocol.startsWith(KEY_SUBPROTOCOL))?.slice(KEY_SUBPROTOCOL.length);
}

async function authPlugin(app: FastifyInstance, options: { keys: KeyService }): Promise<void> {
  app.decorateRequest('apiKey', null);
  const admit = (request: FastifyRequest, record: ApiKeyRecord): void => {
    if (isExpired(record)) throw new KeyExpired(record.expiresAt);
    request.apiKey = record;
    if (request.routeOptions.config?.admin && record.role !== 'admin') {
      throw new Forbidden('This endpoint needs an admin API key');
    }
    // A viewer reads: every write (run, cancel, deploy) is a POST, PUT, PATCH or DELETE.
    if (record.role === 'viewer' && !READ_METHODS.has(request.method)) {
      throw new Forbidden('This API key is read-only (role viewer)');
    }
  };
  // Callback style, so the common case (a key seen before) completes without a promise per request.
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.routeOptions.config?.public) return done();
    const key = presentedKey(request.headers);
    if (!key) return done(new Unauthorized('Missing API key: send it in the X-API-KEY header'));
    const recent = options.keys.recentlyAuthenticated(key);
    try {
      if (recent) {
        admit(request, recent);
        return done();
      }
    } catch (error) {
      return done(error as Error);
    }
    options.keys.authenticate(key).then(
      (record) => {
        if (!record) return done(new Unauthorized('Invalid or revoked API key'));
        try {
          admit(request, record);
          done();
        } catch (error) {
          done(error as Error);
        }
      },
      (error: Error) => done(error),
    );
  });
}

export default fp(authPlugin, { name: 'flowscale-auth', fastify: '5.x' });
