import { mkdir } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { FlowScaleError } from 'flowscale';
import { downloadOutput, downloadOutputToFile } from 'flowscale/node';
import mime from 'mime';
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

/** A name asked for without its extension still lands on disk with one, so it opens in the right app. */
function extensionFor(url: string, contentType: string | null): string {
  try {
    const ext = extname(new URL(url).pathname);
    if (ext) return ext;
  } catch {
    // not a parseable URL; fall through to the content type
  }
  const extension = mime.getExtension((contentType ?? '').split(';')[0]!.trim());
  return extension ? `.${extension}` : '';
}

/** Fetches one output by name through the SDK (lookup and download) and writes it into `dir`. */
export async function saveOutput(ctx: CommandContext, name: string, dir: string): Promise<SavedOutput> {
  const client = ctx.client();
  const res = await client.getOutput(name);
  const data = res?.data;
  if (!data) {
    throw new CliError(
      `output "${name}" is not ready yet; try again when the run has finished`,
      ExitCode.generic,
    );
  }
  const isText = typeof data.file_content === 'string';
  if (!isText && !data.download_url) {
    throw new CliError(`output "${name}" has neither a download URL nor content`);
  }
  const target = resolve(ctx.io.cwd, dir);
  await mkdir(target, { recursive: true });
  // The SDK sends the signed download URL without the API key; a text output becomes its content.
  let response: Response;
  try {
    response = await downloadOutput(client, data);
  } catch (err) {
    if (err instanceof FlowScaleError && err.status !== undefined) {
      throw new CliError(`downloading output "${name}" failed: HTTP ${err.status}`, ExitCode.generic);
    }
    throw err;
  }
  let file = safeFileName(name, isText);
  if (!isText && extname(file) === '') {
    file += extensionFor(data.download_url!, response.headers.get('content-type'));
  }
  // Streamed (outputs can be videos) through a .part file, so an interrupted download never leaves a
  // truncated file that looks complete.
  const saved = await downloadOutputToFile(response, join(target, file));
  return { filename: name, path: saved.path, size: saved.size, kind: isText ? 'text' : 'file' };
}
