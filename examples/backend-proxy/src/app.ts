import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createFlowScaleProxy, jwtAuthenticator, type Operation, toNodeHandler } from '@flowscale/proxy';
import express from 'express';
import { SignJWT } from 'jose';

export interface BackendOptions {
  /** The FlowScale API: a pod URL or a self-hosted @flowscale/server. */
  flowscaleUrl: string;
  /** Stays in this process; browsers never see it. */
  flowscaleApiKey: string;
  /** Signs the demo session tokens (HS256). */
  jwtSecret: string;
  /** The built React page to serve, if any. */
  staticDir?: string;
  /** Demo sign-in: username -> password. */
  users?: Record<string, string>;
  workflows?: string[];
}

const ISSUER = 'flowscale-example-backend';
const AUDIENCE = 'flowscale-example-page';

/**
 * Browsers may run these and nothing else (the admin API stays closed). Each signed-in user lists, reads,
 * follows and cancels only the runs they created (`ownRuns` below).
 */
const OPERATIONS: Operation[] = [
  'health',
  'workflows',
  'run',
  'getRun',
  'getRuns',
  'cancel',
  'output',
  'download',
  'events',
];

export function createBackend(options: BackendOptions): express.Express {
  const secret = new TextEncoder().encode(options.jwtSecret);
  const users = options.users ?? { demo: 'demo' };
  const app = express();
  app.disable('x-powered-by');

  // The proxy comes first: it streams request bodies itself, so no body parser may run before it.
  app.use(
    '/api/v1',
    toNodeHandler(
      createFlowScaleProxy({
        upstream: options.flowscaleUrl,
        apiKey: options.flowscaleApiKey,
        authenticate: jwtAuthenticator({ secret, issuer: ISSUER, audience: AUDIENCE }),
        allow: {
          workflows: options.workflows ?? ['invert-image', 'blur-image', 'text-echo', 'slow-delay'],
          operations: OPERATIONS,
        },
        rateLimit: { limit: 300, windowMs: 60_000 },
        ownRuns: true,
        maxBodyBytes: 10 * 1024 * 1024,
        onError: (error) => console.error('flowscale proxy:', (error as Error).message),
      }),
    ),
  );

  app.post('/login', express.json({ limit: '4kb' }), async (req, res) => {
    const { username, password } = (req.body ?? {}) as { username?: unknown; password?: unknown };
    if (typeof username !== 'string' || typeof password !== 'string' || users[username] !== password) {
      res.status(401).json({ status: 'error', errors: 'Wrong username or password', code: 'unauthorized' });
      return;
    }
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(username)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(secret);
    res.json({ token, expires_in: 3600 });
  });

  if (options.staticDir && existsSync(options.staticDir)) {
    const index = join(options.staticDir, 'index.html');
    app.use(express.static(options.staticDir, { index: 'index.html' }));
    app.get('/{*path}', (_req, res) => res.sendFile(index));
  }
  return app;
}
