import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import {
  type FlowScaleProxyHandler,
  fastifyFlowScaleProxy,
  honoFlowScaleProxy,
  toNextHandlers,
  toNodeHandler,
} from '../../src/index';

export interface Served {
  url: string;
  close(): Promise<void>;
}

export type AdapterName = 'express' | 'fastify' | 'next' | 'hono';
export const ADAPTERS: AdapterName[] = ['express', 'fastify', 'next', 'hono'];

/** Serves a proxy handler on a free port through one of the framework adapters, as an app would. */
export async function serveWith(adapter: AdapterName, proxy: FlowScaleProxyHandler): Promise<Served> {
  switch (adapter) {
    case 'express': {
      const app = express();
      // A JSON parser elsewhere in the app must not swallow the proxied bodies.
      app.use('/api/v1', toNodeHandler(proxy));
      app.use(express.json());
      return listenNode(http.createServer(app));
    }
    case 'fastify': {
      const app = Fastify();
      await app.register(fastifyFlowScaleProxy(proxy));
      await app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.server.address() as AddressInfo;
      return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
    }
    case 'next': {
      // What Next.js does with app/api/v1/[...path]/route.ts: hand the Request to the exported method.
      const routes = toNextHandlers(proxy);
      const handler = toNodeHandler(async (request) => {
        const route = routes[request.method as keyof typeof routes];
        return route ? route(request) : new Response(null, { status: 405 });
      });
      return listenNode(http.createServer(handler));
    }
    case 'hono': {
      const app = new Hono();
      app.all('/api/v1/*', honoFlowScaleProxy(proxy));
      const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
      await once(server, 'listening');
      const { port } = server.address() as AddressInfo;
      return { url: `http://127.0.0.1:${port}`, close: () => closeNode(server as http.Server) };
    }
  }
}

async function listenNode(server: http.Server): Promise<Served> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => closeNode(server) };
}

function closeNode(server: http.Server): Promise<void> {
  server.closeAllConnections?.();
  return new Promise((resolve) => server.close(() => resolve()));
}
