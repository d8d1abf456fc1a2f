import { BadRequest } from '../errors';
import type { RunPriority } from '../storage/records';
import type { InputSpec } from '../workflows/types';
import { specForField } from './validate-inputs';

/** How a run is scheduled, as opposed to what it computes (its inputs). */
export interface RunOptions {
  priority: RunPriority;
  timeoutMs: number | null;
}

/** The query parameters that may carry the options (a form field of the same name works too). */
export interface RunOptionQuery {
  priority?: string;
  timeout?: string;
}

const PRIORITIES: readonly RunPriority[] = ['low', 'normal', 'high'];
export const MAX_TIMEOUT_MS = 86_400_000;

/**
 * Reads `priority` and `timeout` from the query or the form fields, and takes them out of the fields so
 * they are not mistaken for workflow inputs, unless the workflow itself has an input of that name.
 */
export function takeRunOptions(
  query: RunOptionQuery,
  fields: Map<string, string>,
  specs: InputSpec[],
): RunOptions {
  const take = (name: keyof RunOptionQuery): string | undefined => {
    const value = specForField(specs, name) ? undefined : fields.get(name);
    if (value !== undefined) fields.delete(name);
    return query[name] ?? value;
  };
  return { priority: priorityOf(take('priority')), timeoutMs: timeoutOf(take('timeout')) };
}

function priorityOf(value: string | undefined): RunPriority {
  if (value === undefined) return 'normal';
  if (!(PRIORITIES as readonly string[]).includes(value))
    throw new BadRequest(`priority must be one of ${PRIORITIES.join(', ')} (got ${JSON.stringify(value)})`);
  return value as RunPriority;
}

function timeoutOf(value: string | undefined): number | null {
  if (value === undefined) return null;
  const ms = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms < 1 || ms > MAX_TIMEOUT_MS)
    throw new BadRequest(`timeout must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}`);
  return ms;
}
