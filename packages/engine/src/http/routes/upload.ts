import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { MultipartFile } from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import sharp from 'sharp';
import { type FolderType, isFolderType } from '../../data/data-dir';
import { joinInside } from '../../data/safe-path';
import { sendError } from '../body';
import type { EngineState } from '../state';
import { resolveView } from './view';

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

export function uploadRoutes(app: FastifyInstance, state: EngineState): void {
  app.post('/upload/image', (req, reply) => upload(state, req, reply));
  app.post('/upload/mask', (req, reply) => upload(state, req, reply, true));
}
