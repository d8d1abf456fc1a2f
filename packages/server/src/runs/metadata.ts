import { InvalidMetadata } from '../errors';
import type { InputSpec } from '../workflows/types';
import { type SubmittedInputs, specForField } from './validate-inputs';

/** The largest `metadata` object accepted, as JSON text. */
export const MAX_METADATA_BYTES = 8 * 1024;
export const METADATA_FIELD = 'metadata';
/** What may follow `metadata.` in a `GET /runs` filter. */
export const METADATA_KEY = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_METADATA_FILTERS = 8;

/** A JSON object of at most 8 KiB, or a 400 naming what is wrong. */
export function parseMetadata(text: string, source: string): Record<string, unknown> {
  if (Buffer.byteLength(text) > MAX_METADATA_BYTES) {
    throw new InvalidMetadata(`${source} is larger than ${MAX_METADATA_BYTES} bytes`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidMetadata(`${source} must be a JSON object; it is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidMetadata(`${source} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * Takes the `metadata` form field out of the inputs (unless the workflow has an input of that name) and
 * merges it with `metadata` from the query string, whose keys win: a proxy in front of the server sets
 * the query, so what it records cannot be overridden from the body.
 */
export function takeMetadata(
  submitted: SubmittedInputs,
  specs: InputSpec[],
  query: Record<string, unknown> | undefined,
): Record<string, unknown> | null {
  let fromBody: Record<string, unknown> | undefined;
  const field = submitted.fields.get(METADATA_FIELD);
  if (field !== undefined && !specForField(specs, METADATA_FIELD)) {
    submitted.fields.delete(METADATA_FIELD);
    fromBody = parseMetadata(field, 'The metadata field');
  }
  if (!fromBody && !query) return null;
  const merged = { ...fromBody, ...query };
  if (Buffer.byteLength(JSON.stringify(merged)) > MAX_METADATA_BYTES) {
    throw new InvalidMetadata(`metadata is larger than ${MAX_METADATA_BYTES} bytes`);
  }
  return merged;
}

/** `metadata.<key>=<value>` query parameters as filters; a 400 for a bad key or too many. */
export function metadataFilters(query: Record<string, unknown>): Array<[string, string]> {
  const filters: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(query)) {
    if (!name.startsWith(`${METADATA_FIELD}.`)) continue;
    const key = name.slice(METADATA_FIELD.length + 1);
    if (!METADATA_KEY.test(key)) {
      throw new InvalidMetadata(`${name}: a metadata filter key is 1–64 letters, digits, "_" or "-"`);
    }
    if (typeof value !== 'string') throw new InvalidMetadata(`${name} may be given once`);
    filters.push([key, value]);
  }
  if (filters.length > MAX_METADATA_FILTERS) {
    throw new InvalidMetadata(`At most ${MAX_METADATA_FILTERS} metadata filters`);
  }
  return filters;
}
