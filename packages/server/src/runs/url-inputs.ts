import { Readable } from 'node:stream';
import { invalidInputs, PayloadTooLarge } from '../errors';
import { decodeDataUrl } from '../inputs/data-url';
import { FileTooLargeError, type InputBlobs } from '../inputs/input-blobs';
import { openUrl, UrlInputError } from '../inputs/url-fetch';
import { extensionForType } from '../media/media-types';
import type { StoredFileRef } from '../storage/records';
import { FILE_INPUT_TYPES, type InputSpec } from '../workflows/types';
import { type SubmittedInputs, specForField } from './validate-inputs';

export interface UrlInputOptions {
  allowPrivate: boolean;
  idleTimeoutMs: number;
  totalTimeoutMs: number;
  maxFileBytes: number;
}

/** Anything with a scheme is treated as a URL, so `file:`/`ftp:` get a clear refusal, not "not a file". */
const hasScheme = (value: string): boolean => /^[a-z][a-z0-9+.-]*:/i.test(value.trim());

/** File-type inputs sent as text that names a URL or carries a data: URL. */
export function urlFields(
  submitted: SubmittedInputs,
  specs: InputSpec[],
): Array<[string, InputSpec, string]> {
  const found: Array<[string, InputSpec, string]> = [];
  for (const [field, value] of submitted.fields) {
    const spec = specForField(specs, field);
    if (spec && FILE_INPUT_TYPES.has(spec.type) && hasScheme(value)) found.push([field, spec, value.trim()]);
  }
  return found;
}

/** A stand-in file so the rest of the request can be validated before anything is fetched. */
export function withPlaceholders(submitted: SubmittedInputs, pending: Array<[string, InputSpec, string]>) {
  const fields = new Map(submitted.fields);
  const files = new Map(submitted.files);
  for (const [field] of pending) {
    fields.delete(field);
    files.set(field, { sha256: '', size: 1, filename: field, content_type: 'application/octet-stream' });
  }
  return { fields, files };
}

function filenameFromUrl(url: URL, fallback: string): string {
  const last = url.pathname.split('/').at(-1) ?? '';
  let name = '';
  try {
    name = decodeURIComponent(last);
  } catch {
    name = last;
  }
  name = name.replace(/[^\w.-]+/g, '_').slice(-200);
  return name.replace(/^[._]+/, '') || fallback;
}

async function fetchOne(
  spec: InputSpec,
  value: string,
  store: InputBlobs,
  options: UrlInputOptions,
): Promise<StoredFileRef> {
  const limitBytes = Math.min(options.maxFileBytes, spec.max_file_size ?? Number.POSITIVE_INFINITY);
  if (/^data:/i.test(value)) {
    const { contentType, bytes } = decodeDataUrl(value);
    if (bytes.length > limitBytes)
      throw new UrlInputError('too_large', `the file is larger than the limit of ${limitBytes} bytes`);
    const filename = `${spec.name}${extensionForType(contentType) ?? ''}`;
    return store.save(Readable.from([bytes]), { filename, contentType, limitBytes });
  }
  const { response, url } = await openUrl(value, { ...options, limitBytes });
  const contentType =
    (response.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ||
    'application/octet-stream';
  try {
    // Streamed straight into the content-addressed store; the byte cap holds even without Content-Length.
    return await store.save(response, { filename: filenameFromUrl(url, spec.name), contentType, limitBytes });
  } catch (error) {
    if (error instanceof FileTooLargeError) throw error;
    const timedOut = ['AbortError', 'TimeoutError'].includes((error as Error).name);
    throw new UrlInputError(
      'failed',
      timedOut
        ? `fetching from ${url.host} took too long`
        : `the download from ${url.host} broke off: ${(error as { code?: string }).code ?? (error as Error).message}`,
    );
  }
}

/**
 * Replaces each URL / data: URL field with the file it names, stored like an upload. The first failure
 * ends the request: 413 naming the input when too large, otherwise 422 naming the input and the reason.
 * Nothing is fetched for a value that is refused (scheme, credentials, blocked address).
 */
export async function resolveUrlInputs(
  submitted: SubmittedInputs,
  pending: Array<[string, InputSpec, string]>,
  store: InputBlobs,
  options: UrlInputOptions,
): Promise<void> {
  for (const [field, spec, value] of pending) {
    let file: StoredFileRef;
    try {
      file = await fetchOne(spec, value, store, options);
    } catch (error) {
      if (
        error instanceof FileTooLargeError ||
        (error instanceof UrlInputError && error.kind === 'too_large')
      )
        throw new PayloadTooLarge(
          `Input ${field}: the file is larger than the limit of ${Math.min(options.maxFileBytes, spec.max_file_size ?? Number.POSITIVE_INFINITY)} bytes`,
        );
      if (error instanceof UrlInputError) {
        const prefix = error.kind === 'refused' ? 'URL refused' : 'could not fetch the URL';
        throw invalidInputs([{ field, message: `${prefix}: ${error.message}` }]);
      }
      throw error;
    }
    submitted.fields.delete(field);
    submitted.files.set(field, file);
  }
}
