import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import { MalformedMultipart, PayloadTooLarge, UnsupportedMediaType } from '../http/errors';
import { FileTooLargeError, type InputFileStore } from '../inputs/file-store';
import type { RunInput } from '../storage/types';
import { FILE_INPUT_TYPES, type InputSpec } from '../workflows/types';
import { type SubmittedInputs, specForField } from './validate-inputs';

const discard = (): Writable => new Writable({ write: (_chunk, _encoding, callback) => callback() });

/**
 * Reads the multipart body part by part. Files stream straight into the content-addressed store,
 * capped by the input's own limit, so memory stays flat whatever their size.
 */
export async function readSubmission(
  request: FastifyRequest,
  specs: InputSpec[],
  store: InputFileStore,
  maxFileBytes: number,
): Promise<SubmittedInputs> {
  const submitted: SubmittedInputs = { fields: new Map(), files: new Map() };
  if (!request.isMultipart()) {
    // No body at all means "use every default"; any other body is the wrong encoding.
    const hasBody =
      Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'];
    if (hasBody || request.headers['content-type']) {
      throw new UnsupportedMediaType('Expected a multipart/form-data body with one part per input');
    }
    return submitted;
  }
  try {
    for await (const part of request.parts()) {
      if (part.type === 'field') {
        if (part.valueTruncated)
          throw new PayloadTooLarge(`Field ${part.fieldname} is larger than the 1 MiB limit`);
        submitted.fields.set(part.fieldname, String(part.value));
        continue;
      }
      const spec = specForField(specs, part.fieldname);
      if (!spec || !FILE_INPUT_TYPES.has(spec.type)) {
        // Still drained, so the request completes and validation can list every problem at once.
        await pipeline(part.file, discard());
        submitted.files.set(part.fieldname, {
          sha256: '',
          size: 1,
          filename: part.filename,
          content_type: part.mimetype,
        });
        continue;
      }
      const limitBytes = Math.min(maxFileBytes, spec.max_file_size ?? Number.POSITIVE_INFINITY);
      const stored = await store.save(part.file, {
        filename: part.filename || spec.name,
        contentType: part.mimetype || 'application/octet-stream',
        limitBytes,
      });
      if (part.file.truncated)
        throw new PayloadTooLarge(`File ${part.fieldname} is larger than the size limit`);
      submitted.files.set(part.fieldname, stored);
    }
  } catch (error) {
    if (error instanceof FileTooLargeError) {
      throw new PayloadTooLarge(`File is larger than the limit of ${error.limit} bytes`);
    }
    const code = (error as { code?: string }).code;
    if (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE') {
      throw new MalformedMultipart('the request body ended early (client disconnected)');
    }
    if (code || (error as { statusCode?: number }).statusCode) throw error;
    throw new MalformedMultipart((error as Error).message);
  }
  return submitted;
}

/** What the run record keeps of each submitted input. */
export function runInputsOf(submitted: SubmittedInputs, specs: InputSpec[]): RunInput[] {
  const inputs: RunInput[] = [];
  for (const [field, value] of submitted.fields) {
    const spec = specForField(specs, field);
    inputs.push({ path: field, value, ...(spec ? { name: spec.name } : {}) });
  }
  for (const [field, file] of submitted.files) {
    const spec = specForField(specs, field);
    inputs.push({ path: field, value: file.filename, file, ...(spec ? { name: spec.name } : {}) });
  }
  return inputs;
}

/** Identifies "the same inputs" for Idempotency-Key: field names, text values and file hashes. */
export function requestHash(workflowId: string, groupId: string | null, submitted: SubmittedInputs): string {
  const parts = [
    ...[...submitted.fields].map(([field, value]) => `f:${field}=${value}`),
    ...[...submitted.files].map(([field, file]) => `b:${field}=${file.sha256}`),
  ].sort();
  return createHash('sha256')
    .update(JSON.stringify([workflowId, groupId, parts]))
    .digest('hex');
}
