import type { Sharp } from 'sharp';
import { rawSharp } from '../../tensor/image';
import type { ImageBatch } from '../../tensor/types';
import type { RunContext } from '../types';
import { addPngText } from './png-text';
import { pyJsonDumps } from './py-json';
import { saveTarget, writeCounted } from './save-path';

export type ImageFormat = 'png' | 'jpg' | 'jpeg' | 'webp' | 'avif';

export interface SaveOptions {
  root: string;
  type: 'output' | 'temp';
  prefix: string;
  format: ImageFormat;
  compressionLevel?: number;
  quality?: number;
  lossless?: boolean;
}

export interface SavedFile {
  filename: string;
  subfolder: string;
  type: 'output' | 'temp';
}

/** The "prompt" chunk plus one chunk per extra_pnginfo key, as ComfyUI's SaveImage writes them. */
function pngText(ctx: RunContext): [string, string][] {
  const entries: [string, string][] = [['prompt', pyJsonDumps(ctx.prompt)]];
  for (const [key, value] of Object.entries(ctx.extraPngInfo ?? {})) entries.push([key, pyJsonDumps(value)]);
  return entries;
}

async function encode(frame: Sharp, opts: SaveOptions, ctx: RunContext): Promise<Buffer> {
  switch (opts.format) {
    case 'png': {
      const png = await frame.png({ compressionLevel: opts.compressionLevel ?? 4 }).toBuffer();
      return addPngText(png, pngText(ctx));
    }
    case 'jpg':
    case 'jpeg':
      return frame.jpeg({ quality: opts.quality ?? 90 }).toBuffer();
    case 'webp':
      return frame.webp({ quality: opts.quality ?? 90, lossless: opts.lossless ?? false }).toBuffer();
    case 'avif':
      return frame.avif({ quality: opts.quality ?? 90, lossless: opts.lossless ?? false }).toBuffer();
  }
}

/** Writes every frame as `<prefix>_<counter>_.<ext>` and returns the UI entries ComfyUI reports. */
export async function saveImages(
  images: ImageBatch,
  opts: SaveOptions,
  ctx: RunContext,
): Promise<SavedFile[]> {
  const target = await saveTarget(opts.root, opts.prefix, images.width, images.height);
  const saved: SavedFile[] = [];
  for (const frame of images.frames) {
    const data = await encode(rawSharp(frame, images.width, images.height), opts, ctx);
    const filename = await writeCounted(target, opts.format, data);
    saved.push({ filename, subfolder: target.subfolder, type: opts.type });
  }
  return saved;
}
