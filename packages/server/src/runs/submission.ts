import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MalformedMultipart, PayloadTooLarge } from '../errors';
import type { FormPart } from '../inputs/form-parts';
import { FileTooLargeError, type InputBlobs } from '../inputs/input-blobs';
import { inputQuotaExceeded } from '../quotas/quotas';
import type { RunInput } from '../storage/records';
import { FILE_INPUT_TYPES, type InputSpec } from '../workflows/types';
import { type SubmittedInputs, specForField } from './validate-inputs';

/** Drains a part nobody stores, still counting its bytes against the request's budget. */
const discard = (budget: InputBudget): Writable =>
  new Writable({ write: (chunk: Buffer, _encoding, callback) => callback(budget.spend(chunk.length)) });

/**
 * The project's `max_input_bytes` over the bytes actually read (fields and files): Content-Length is only
 * a cheap early check, and a chunked body declares none.
 */
class InputBudget {
  used = 0;
  constructor(readonly limit: number) {}
  get remaining(): number {
    return Math.max(0, this.limit - this.used);
  }
  spend(bytes: number): Error | null {
    this.used += bytes;
    return this.used > this.limit ? inputQuotaExceeded(this.limit) : null;
  }
}

/**
 * Reads the multipart body part by part. Files stream straight into the content-addressed store,
 * capped by the input's own limit, so memory stays flat whatever their size.
 */
export async function readSubmission(
  parts: AsyncIterable<FormPart>,
  specs: InputSpec[],
  store: InputBlobs,
  maxFileBytes: number,
  maxInputBytes = Number.POSITIVE_INFINITY,
): Promise<SubmittedInputs> {
  const submitted: SubmittedInputs = { fields: new Map(), files: new Map() };
  const budget = new InputBudget(maxInputBytes);
  try {
    for await (const part of parts) {
      if (part.kind === 'field') {
        if (part.truncated)
          throw new PayloadTooLarge(`Field ${part.fieldname} is larger than the 1 MiB limit`);
        const over = budget.spend(Buffer.byteLength(part.value));
        if (over) throw over;
        submitted.fields.set(part.fieldname, part.value);
        continue;
      }
      const spec = specForField(specs, part.fieldname);
      if (!spec || !FILE_INPUT_TYPES.has(spec.type)) {
        // Still drained, so the request completes and validation can list every problem at once.
        await pipeline(part.stream, discard(budget));
        submitted.files.set(part.fieldname, {
          sha256: '',
          size: 1,
          filename: part.filename,
          content_type: part.mimetype,
        });
        continue;
      }
      const ownLimit = Math.min(maxFileBytes, spec.max_file_size ?? Number.POSITIVE_INFINITY);
      // Past the budget the file never reaches the store: its temp file goes with the error.
      const byBudget = budget.remaining < ownLimit;
      const stored = await store
        .save(part.stream, {
          filename: part.filename || spec.name,
          contentType: part.mimetype || 'application/octet-stream',
          limitBytes: byBudget ? budget.remaining : ownLimit,
          truncated: part.truncated,
        })
        .catch((error: unknown) => {
          throw byBudget && error instanceof FileTooLargeError ? inputQuotaExceeded(budget.limit) : error;
        });
      budget.spend(stored.size);
      submitted.files.set(part.fieldname, stored);
    }
  } catch (error) {
    throw asSubmissionError(error);
  }
  return submitted;
}

function asSubmissionError(error: unknown): unknown {
  if (error instanceof FileTooLargeError) {
    return new PayloadTooLarge(`File is larger than the limit of ${error.limit} bytes`);
  }
  const code = (error as { code?: string }).code;
  if (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE') {
    return new MalformedMultipart('the request body ended early (client disconnected)');
  }
  if (code || (error as { statusCode?: number }).statusCode) return error;
  return new MalformedMultipart((error as Error).message);
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
