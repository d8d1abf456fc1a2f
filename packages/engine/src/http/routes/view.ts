import { createReadStream } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import sharp from 'sharp';
import { isFolderType } from '../../data/data-dir';
import { isInside, joinInside, splitAnnotation } from '../../data/safe-path';
import { sendError } from '../body';
import type { EngineState } from '../state';

const CONTENT_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.gif': 'image/gif',
  '.txt': 'text/plain; charset=utf-8',
  '.json': 'application/json',
  // Python's mimetypes names, which ComfyUI's /view answers with.
  '.avi': 'video/x-msvideo',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.wav': 'audio/x-wav',
  '.flac': 'audio/flac',
  '.mp3': 'audio/mpeg',
};

function contentType(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** Resolves /view's parameters like ComfyUI, plus a symlink check ComfyUI lacks. */
export async function resolveView(state: EngineState, query: Record<string, string | undefined>) {
  const raw = query.filename;
  if (!raw) return { status: 404, message: 'filename is required' } as const;
  const { name, type: annotated } = splitAnnotation(raw);
  if (!name || name.startsWith('/') || name.includes('..')) {
    return { status: 400, message: 'filename must not be absolute or contain ".."' } as const;
  }
  const type = annotated ?? query.type ?? 'output';
  if (!isFolderType(type))
    return { status: 400, message: 'type must be one of input, output, temp' } as const;
  const root = state.dirs[type];
  const folder = query.subfolder ? joinInside(root, query.subfolder) : root;
  if (!folder) return { status: 403, message: 'subfolder escapes the folder' } as const;
  const file = path.join(folder, path.basename(name));
  const real = await realpath(file).catch(() => null);
  const realRoot = await realpath(root).catch(() => root);
  if (
    !real ||
    !(await stat(real)
      .then((s) => s.isFile())
      .catch(() => false))
  ) {
    return { status: 404, message: 'file not found' } as const;
  }
  if (!isInside(realRoot, real)) return { status: 403, message: 'file links outside the folder' } as const;
  return { status: 200, file: real, name: path.basename(name) } as const;
}

const wantsVariant = (query: Record<string, string | undefined>) =>
  Boolean(query.preview) || query.channel === 'rgb' || query.channel === 'a';

/** preview=webp;50 / jpeg;90 and channel=rgb / a, re-encoded with sharp. */
async function renderVariant(file: string, query: Record<string, string | undefined>) {
  const data = await readFile(file);
  if (query.preview) {
    const [format, q] = query.preview.split(';');
    const quality = Number(q) > 0 ? Math.min(100, Number(q)) : 90;
    if (format === 'webp')
      return { data: await sharp(data).webp({ quality }).toBuffer(), type: 'image/webp' };
    if (format === 'jpeg')
      return { data: await sharp(data).jpeg({ quality }).toBuffer(), type: 'image/jpeg' };
  }
  if (query.channel === 'rgb')
    return { data: await sharp(data).removeAlpha().png().toBuffer(), type: 'image/png' };
  if (query.channel === 'a') {
    const alpha = await sharp(data).ensureAlpha().extractChannel(3).png().toBuffer();
    return { data: alpha, type: 'image/png' };
  }
  return { data, type: contentType(file) };
}

async function view(state: EngineState, req: FastifyRequest, reply: FastifyReply) {
  const query = req.query as Record<string, string | undefined>;
  const found = await resolveView(state, query);
  if (found.status !== 200) return sendError(reply, found.status, 'view_failed', found.message);
  reply
    .header('Content-Disposition', `filename="${found.name.replace(/"/g, '')}"`)
    .header('X-Content-Type-Options', 'nosniff');
  if (!wantsVariant(query)) {
    // Streamed, so large outputs are never held in memory whole.
    const { size } = await stat(found.file);
    return reply
      .type(contentType(found.file))
      .header('Content-Length', size)
      .send(createReadStream(found.file));
  }
  try {
    const out = await renderVariant(found.file, query);
    return reply.type(out.type).send(out.data);
  } catch {
    return sendError(reply, 400, 'view_failed', 'the file is not an image that can be previewed');
  }
}

export function viewRoutes(app: FastifyInstance, state: EngineState): void {
  app.get('/view', (req, reply) => view(state, req, reply));
}
