import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AppContext } from '../../context';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

/** Vite names assets `<name>-<hash>.<ext>`; nothing else (no dot-dot, no slash) is served. */
const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;

const origin = (url: string | undefined): string | undefined => {
  if (!url) return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
};

/**
 * No inline script or style, no eval, no framing. Outputs are shown from this server, or from S3 when
 * downloads are presigned (those origins go in connect-src too: text outputs are read to be shown);
 * uploads are previewed from `blob:` URLs.
 */
export function dashboardCsp(ctx: AppContext): string {
  const { s3, publicUrl } = ctx.config;
  const media = ["'self'", 'blob:', 'data:'];
  const extra = [origin(publicUrl)];
  if (s3?.downloads === 'presigned') {
    extra.push(s3.endpoint ? origin(s3.endpoint) : 'https://*.amazonaws.com');
  }
  const connect = ["'self'"];
  for (const source of extra) {
    if (source && !media.includes(source)) media.push(source);
    if (source && !connect.includes(source)) connect.push(source);
  }
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src ${media.join(' ')}`,
    `media-src ${media.join(' ')}`,
    `connect-src ${connect.join(' ')}`,
    "font-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const NOT_BUILT = `The dashboard is not built. From the repository root run:

  npm run build -w @flowscale/dashboard

(npm start and npm run build do this for you), then reload this page.
`;

/** `/dashboard/`: the static build of packages/dashboard, with a strict Content-Security-Policy. */
export async function dashboardRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const dir = ctx.config.dashboardDir;
  const csp = dashboardCsp(ctx);
  const secure = (reply: FastifyReply): FastifyReply =>
    reply
      .header('content-security-policy', csp)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('x-frame-options', 'DENY');

  // Answers `true` once the file is sent, never the reply itself: a Fastify reply is a thenable that
  // settles (with undefined) when the response has finished, so awaiting one returned from an async
  // function read "not sent" and the caller's fallback then set a late 503/404 on a served file. The
  // client saw 200; the onResponse hook, when it ran after that fallback, counted the fallback's code.
  const sendFile = async (reply: FastifyReply, file: string, cache: string): Promise<boolean> => {
    const stat = await fs.promises.stat(file).catch(() => undefined);
    if (!stat?.isFile()) return false;
    secure(reply)
      .type(TYPES[path.extname(file)] ?? 'application/octet-stream')
      .header('content-length', stat.size)
      .header('cache-control', cache)
      .send(fs.createReadStream(file));
    return true;
  };

  const options = { config: { public: true }, schema: { hide: true } } as const;

  // Relative, so it also lands right behind a path prefix (FLOWSCALE_PUBLIC_URL).
  app.get('/dashboard', options, async (_request, reply) => reply.redirect('dashboard/', 308));

  app.get('/dashboard/', options, async (_request, reply) => {
    // The page names hashed assets; it must never be cached past a rebuild.
    if (await sendFile(reply, path.join(dir, 'index.html'), 'no-cache')) return reply;
    return secure(reply).code(503).type('text/plain; charset=utf-8').send(NOT_BUILT);
  });

  app.get<{ Params: { file: string } }>('/dashboard/assets/:file', options, async (request, reply) => {
    const { file } = request.params;
    if (ASSET_NAME.test(file) && !file.includes('..')) {
      const cache = 'public, max-age=31536000, immutable';
      if (await sendFile(reply, path.join(dir, 'assets', file), cache)) return reply;
    }
    return secure(reply)
      .code(404)
      .send({ status: 'error', errors: `No dashboard asset ${file.slice(0, 80)}`, code: 'NOT_FOUND' });
  });
}
