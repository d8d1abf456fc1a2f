import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { KeyService } from '../../auth/key-service';
import type { ApiKeyRecord } from '../../storage/types';
import { Forbidden, Unauthorized } from '../errors';

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
  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    if (config?.public) return;
    const key = presentedKey(request.headers);
    if (!key) throw new Unauthorized('Missing API key: send it in the X-API-KEY header');
    const record = await options.keys.authenticate(key);
    if (!record) throw new Unauthorized('Invalid or revoked API key');
    request.apiKey = record;
    if (config?.admin && record.role !== 'admin') throw new Forbidden('This endpoint needs an admin API key');
  });
}

export default fp(authPlugin, { name: 'flowscale-auth', fastify: '5.x' });
