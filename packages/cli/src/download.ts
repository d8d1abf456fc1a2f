import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { CommandContext } from './context';
import { CliError, ExitCode } from './exit-codes';

export interface SavedOutput {
  filename: string;
  path: string;
  size: number;
  kind: 'file' | 'text';
}

/**
 * Output names come from the server; keep only a plain file name so a hostile or buggy name can never
 * write outside --out.
 */
export function safeFileName(name: string, isText: boolean): string {
  let file = basename(name.replace(/\\/g, '/')).replace(/[^\w.-]+/g, '_');
  if (file === '' || file === '.' || file === '..') file = 'output';
  if (isText && extname(file) === '') file += '.txt';
  return file;
}

const EXT_BY_TYPE: Record<string, string> = {
  'image/png': '.png',
  'image/jpeg': '.jpg',
  'image/webp': '.webp',
  'image/gif': '.gif',
  'video/mp4': '.mp4',
  'video/webm': '.webm',
  'audio/wav': '.wav',
  'audio/mpeg': '.mp3',
  'audio/flac': '.flac',
  'text/plain': '.txt',
};

/** A name asked for without its extension still lands on disk with one, so it opens in the right app. */
function extensionFor(url: string, contentType: string | null): string {
  try {
    const ext = extname(new URL(url).pathname);
    if (ext) return ext;
  } catch {
    // not a parseable URL; fall through to the content type
  }
  return EXT_BY_TYPE[(contentType ?? '').split(';')[0]!.trim()] ?? '';
}

/** Fetches one output by name through the SDK and writes it into `dir`. */
export async function saveOutput(ctx: CommandContext, name: string, dir: string): Promise<SavedOutput> {
  const res = await ctx.client().getOutput(name);
  const data = res?.data;
  if (!data) {
    throw new CliError(
      `output "${name}" is not ready yet; try again when the run has finished`,
      ExitCode.generic,
    );
  }
  const target = resolve(ctx.io.cwd, dir);
  await mkdir(target, { recursive: true });
  if (typeof data.file_content === 'string') {
    const path = join(target, safeFileName(name, true));
    await writeFile(path, data.file_content);
    return { filename: name, path, size: Buffer.byteLength(data.file_content), kind: 'text' };
  }
  if (!data.download_url) throw new CliError(`output "${name}" has neither a download URL nor content`);
  // The download URL is signed and needs no API key: a plain fetch of bytes, not an API call.
  const response = await fetch(data.download_url);
  if (!response.ok || !response.body) {
    throw new CliError(`downloading output "${name}" failed: HTTP ${response.status}`, ExitCode.generic);
  }
  let file = safeFileName(name, false);
  if (extname(file) === '') file += extensionFor(data.download_url, response.headers.get('content-type'));
  const path = join(target, file);
  // Streamed, since outputs can be videos; written under a temporary name so an interrupted download
  // never leaves a truncated file that looks complete.
  const partial = `${path}.part`;
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.byteLength;
      done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(response.body as WebReadableStream), counter, createWriteStream(partial));
    await rename(partial, path);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
  return { filename: name, path, size, kind: 'file' };
}
