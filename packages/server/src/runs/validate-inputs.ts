import type { FieldProblem } from '../errors';
import type { StoredFileRef } from '../storage/records';
import { FILE_INPUT_TYPES, type InputSpec } from '../workflows/types';

export type BoundValue = string | number | boolean | StoredFileRef;

export interface BoundInput {
  spec: InputSpec;
  /** The form field the client used (the name or its alias). */
  field: string;
  value: BoundValue;
}

export interface SubmittedInputs {
  fields: Map<string, string>;
  files: Map<string, StoredFileRef>;
}

const INTEGER = /^[+-]?\d+$/;

function parseScalar(spec: InputSpec, raw: string): { value?: BoundValue; problem?: string } {
  switch (spec.type) {
    case 'integer': {
      const text = raw.trim();
      if (!INTEGER.test(text) || !Number.isSafeInteger(Number(text)))
        return { problem: `expected an integer, got "${raw}"` };
      return { value: Number(text) };
    }
    case 'number': {
      const number = raw.trim() === '' ? Number.NaN : Number(raw);
      if (!Number.isFinite(number)) return { problem: `expected a number, got "${raw}"` };
      return { value: number };
    }
    case 'boolean': {
      const text = raw.trim().toLowerCase();
      if (['true', '1', 'yes'].includes(text)) return { value: true };
      if (['false', '0', 'no'].includes(text)) return { value: false };
      return { problem: `expected a boolean (true or false), got "${raw}"` };
    }
    default:
      return { value: raw };
  }
}

function checkLimits(spec: InputSpec, value: BoundValue): string | undefined {
  if (typeof value === 'number') {
    if (spec.min !== undefined && value < spec.min) return `must be at least ${spec.min}`;
    if (spec.max !== undefined && value > spec.max) return `must be at most ${spec.max}`;
  }
  if (typeof value === 'string') {
    if (spec.max !== undefined && value.length > spec.max) return `must be at most ${spec.max} characters`;
  }
  if (
    spec.choices &&
    (typeof value === 'string' || typeof value === 'number') &&
    !spec.choices.includes(value)
  ) {
    return `must be one of ${spec.choices.map((choice) => JSON.stringify(choice)).join(', ')}`;
  }
  return undefined;
}

/** The spec a form field refers to, by FlowScale name or manifest alias. */
export const specForField = (specs: InputSpec[], field: string): InputSpec | undefined =>
  specs.find((spec) => spec.name === field) ?? specs.find((spec) => spec.alias === field);

/** Binds submitted fields and files to the deployment's inputs; every problem is reported, not just the first. */
export function bindInputs(
  specs: InputSpec[],
  submitted: SubmittedInputs,
): { bound: BoundInput[]; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const bound: BoundInput[] = [];
  const seen = new Map<string, string>();
  const known = specs.map((spec) => spec.alias ?? spec.name).join(', ') || '(none)';

  const claim = (spec: InputSpec, field: string): boolean => {
    const previous = seen.get(spec.name);
    if (previous !== undefined) {
      problems.push({ field, message: `duplicates input "${previous}"` });
      return false;
    }
    seen.set(spec.name, field);
    return true;
  };

  for (const [field, raw] of submitted.fields) {
    const spec = specForField(specs, field);
    if (!spec) {
      problems.push({ field, message: `unknown input; this workflow accepts: ${known}` });
      continue;
    }
    if (!claim(spec, field)) continue;
    if (FILE_INPUT_TYPES.has(spec.type)) {
      problems.push({
        field,
        message: `expected a file upload (${spec.type}), an http(s) URL or a data: URL, got a text field`,
      });
      continue;
    }
    const { value, problem } = parseScalar(spec, raw);
    const limitProblem = value === undefined ? undefined : checkLimits(spec, value);
    if (problem || limitProblem || value === undefined) {
      problems.push({ field, message: problem ?? limitProblem ?? 'invalid value' });
      continue;
    }
    bound.push({ spec, field, value });
  }

  for (const [field, file] of submitted.files) {
    const spec = specForField(specs, field);
    if (!spec) {
      problems.push({ field, message: `unknown input; this workflow accepts: ${known}` });
      continue;
    }
    if (!claim(spec, field)) continue;
    if (!FILE_INPUT_TYPES.has(spec.type)) {
      problems.push({ field, message: `expected a ${spec.type} value, got a file` });
      continue;
    }
    if (file.size === 0) {
      problems.push({ field, message: 'file is empty' });
      continue;
    }
    bound.push({ spec, field, value: file });
  }

  for (const spec of specs) {
    if (seen.has(spec.name)) continue;
    if (spec.required)
      problems.push({ field: spec.alias ?? spec.name, message: `required ${spec.type} input is missing` });
  }
  return { bound, problems };
}
