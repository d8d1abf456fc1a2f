import { createHash } from 'node:crypto';
import { mkdir, readFile, realpath, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { MultipartFile } from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import sharp from 'sharp';
import { type FolderType, isFolderType } from '../../data/data-dir';
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
};

function contentType(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** Resolves /view's parameters like ComfyUI, plus a symlink check ComfyUI lacks. */
async function resolveView(state: EngineState, query: Record<string, string | undefined>) {
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
  try {
    const out = await renderVariant(found.file, query);
    return reply
      .type(out.type)
      .header('Content-Disposition', `filename="${found.name.replace(/"/g, '')}"`)
      .header('X-Content-Type-Options', 'nosniff')
      .send(out.data);
  } catch {
    return sendError(reply, 400, 'view_failed', 'the file is not an image that can be previewed');
  }
}

interface UploadForm {
  file?: { filename: string; data: Buffer };
  fields: Record<string, string>;
}

async function readForm(req: FastifyRequest): Promise<UploadForm> {
  const form: UploadForm = { fields: {} };
  for await (const part of req.parts()) {
    if (part.type === 'file') {
      const file = part as MultipartFile;
      const data = await file.toBuffer();
      if (file.fieldname === 'image') form.file = { filename: file.filename, data };
    } else {
      form.fields[part.fieldname] = String(part.value);
    }
  }
  return form;
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** ComfyUI's image_upload: dedupe identical bytes, otherwise rename to "name (1).ext" unless overwrite. */
async function storeUpload(
  folder: string,
  filename: string,
  data: Buffer,
  overwrite: boolean,
): Promise<string> {
  const ext = path.extname(filename);
  const stem = filename.slice(0, filename.length - ext.length);
  let name = filename;
  for (let i = 1; !overwrite; i++) {
    const existing = await readFile(path.join(folder, name)).catch(() => null);
    if (!existing) break;
    if (sha(existing) === sha(data)) return name;
    name = `${stem} (${i})${ext}`;
  }
  await writeFile(path.join(folder, name), data);
  return name;
}

function badFilename(name: string): boolean {
  return (
    !name || name.includes('/') || name.includes('\\') || name.includes('\0') || name === '.' || name === '..'
  );
}

/** /upload/mask: the original image (original_ref) with its alpha replaced by the upload's alpha. */
async function maskedOriginal(state: EngineState, form: UploadForm, mask: Buffer): Promise<Buffer | string> {
  let ref: unknown;
  try {
    ref = JSON.parse(form.fields.original_ref ?? '');
  } catch {
    return 'original_ref must be a JSON object {"filename", "subfolder", "type"}';
  }
  if (typeof ref !== 'object' || ref === null) return 'original_ref must be a JSON object';
  const r = ref as Record<string, unknown>;
  const found = await resolveView(state, {
    filename: String(r.filename ?? ''),
    subfolder: r.subfolder ? String(r.subfolder) : undefined,
    type: r.type ? String(r.type) : 'output',
  });
  if (found.status !== 200) return `original image: ${found.message}`;
  return replaceAlpha(found.file, mask);
}

/** The original's RGB with the mask's alpha (resized to fit), encoded as PNG like ComfyUI. */
async function replaceAlpha(originalFile: string, mask: Buffer): Promise<Buffer> {
  const { data: rgb, info } = await sharp(originalFile)
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const alpha = await sharp(mask)
    .ensureAlpha()
    .extractChannel(3)
    .resize(info.width, info.height, { fit: 'fill' })
    .raw()
    .toBuffer();
  const rgba = Buffer.allocUnsafe(info.width * info.height * 4);
  for (let i = 0; i < info.width * info.height; i++) {
    rgb.copy(rgba, i * 4, i * info.channels, i * info.channels + 3);
    rgba[i * 4 + 3] = alpha[i] as number;
  }
  return sharp(rgba, { raw: { width: info.width, height: info.height, channels: 4 } })
    .png({ compressionLevel: 4 })
    .toBuffer();
}

async function upload(state: EngineState, req: FastifyRequest, reply: FastifyReply, withMask = false) {
  if (!req.isMultipart()) return sendError(reply, 400, 'invalid_upload', 'expected multipart/form-data');
  const form = await readForm(req);
  if (!form.file)
    return sendError(reply, 400, 'invalid_upload', 'the file must be sent in a field named "image"');
  if (badFilename(form.file.filename)) return sendError(reply, 400, 'invalid_upload', 'invalid file name');
  const type: FolderType | string = form.fields.type || 'input';
  if (!isFolderType(type))
    return sendError(reply, 400, 'invalid_upload', 'type must be one of input, output, temp');
  const subfolder = form.fields.subfolder ?? '';
  const folder = joinInside(state.dirs[type], path.normalize(subfolder || '.'));
  if (!folder) return sendError(reply, 400, 'invalid_upload', 'subfolder escapes the folder');
  await mkdir(folder, { recursive: true });
  const overwrite = form.fields.overwrite === 'true' || form.fields.overwrite === '1';
  let content = form.file.data;
  if (withMask) {
    const composed = await maskedOriginal(state, form, content).catch((err: Error) => `mask: ${err.message}`);
    if (typeof composed === 'string') return sendError(reply, 400, 'invalid_upload', composed);
    content = composed;
  }
  const name = await storeUpload(folder, form.file.filename, content, overwrite);
  return { name, subfolder, type };
}

export function fileRoutes(app: FastifyInstance, state: EngineState): void {
  app.get('/view', (req, reply) => view(state, req, reply));
  app.post('/upload/image', (req, reply) => upload(state, req, reply));
  app.post('/upload/mask', (req, reply) => upload(state, req, reply, true));
}
