import type { InputSpec, OutputSpec } from './types';

/** Optional `<name>.manifest.json` beside a workflow: description, aliases, defaults and limits. */
export interface WorkflowManifest {
  description?: string;
  inputs?: Record<string, ManifestInput>;
  outputs?: Record<string, { description?: string; label?: string }>;
}

export interface ManifestInput {
  alias?: string;
  description?: string;
  default?: string | number | boolean;
  required?: boolean;
  min?: number;
  max?: number;
  choices?: Array<string | number>;
  max_file_size?: number;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Returns the problems with a manifest against the detected specs (empty when valid). */
export function manifestProblems(manifest: unknown, inputs: InputSpec[], outputs: OutputSpec[]): string[] {
  if (manifest === undefined || manifest === null) return [];
  if (!isRecord(manifest)) return ['manifest must be an object'];
  const problems: string[] = [];
  if (manifest.description !== undefined && typeof manifest.description !== 'string') {
    problems.push('manifest.description must be a string');
  }
  const names = new Set(inputs.map((input) => input.name));
  const aliases = new Set<string>();
  if (manifest.inputs !== undefined) {
    if (!isRecord(manifest.inputs)) return [...problems, 'manifest.inputs must be an object'];
    for (const [name, entry] of Object.entries(manifest.inputs)) {
      if (!names.has(name))
        problems.push(`manifest.inputs.${name}: no such input (have ${[...names].join(', ')})`);
      if (!isRecord(entry)) {
        problems.push(`manifest.inputs.${name} must be an object`);
        continue;
      }
      if (entry.alias !== undefined) {
        if (typeof entry.alias !== 'string' || !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(entry.alias)) {
          problems.push(`manifest.inputs.${name}.alias must be an identifier`);
        } else if (aliases.has(entry.alias) || (names.has(entry.alias) && entry.alias !== name)) {
          problems.push(`manifest.inputs.${name}.alias "${entry.alias}" is already used`);
        } else aliases.add(entry.alias);
      }
      for (const key of ['min', 'max', 'max_file_size'] as const) {
        if (entry[key] !== undefined && typeof entry[key] !== 'number') {
          problems.push(`manifest.inputs.${name}.${key} must be a number`);
        }
      }
      if (entry.choices !== undefined && !Array.isArray(entry.choices)) {
        problems.push(`manifest.inputs.${name}.choices must be an array`);
      }
    }
  }
  const outputNames = new Set(outputs.map((output) => output.name));
  if (manifest.outputs !== undefined) {
    if (!isRecord(manifest.outputs)) return [...problems, 'manifest.outputs must be an object'];
    for (const name of Object.keys(manifest.outputs)) {
      if (!outputNames.has(name)) problems.push(`manifest.outputs.${name}: no such output`);
    }
  }
  return problems;
}

/** Applies a (validated) manifest on top of the detected specs. */
export function applyManifest(
  manifest: WorkflowManifest | null | undefined,
  inputs: InputSpec[],
  outputs: OutputSpec[],
): { inputs: InputSpec[]; outputs: OutputSpec[] } {
  if (!manifest) return { inputs, outputs };
  const merged = inputs.map((input) => {
    const extra = manifest.inputs?.[input.name];
    if (!extra) return input;
    const next: InputSpec = { ...input };
    if (extra.alias !== undefined) next.alias = extra.alias;
    if (extra.description !== undefined) next.description = extra.description;
    if (extra.min !== undefined) next.min = extra.min;
    if (extra.max !== undefined) next.max = extra.max;
    if (extra.choices !== undefined) next.choices = extra.choices;
    if (extra.max_file_size !== undefined) next.max_file_size = extra.max_file_size;
    if (extra.default !== undefined) next.default = extra.default;
    next.required = extra.required ?? next.default === undefined;
    return next;
  });
  const mergedOutputs = outputs.map((output) => ({ ...output, ...(manifest.outputs?.[output.name] ?? {}) }));
  return { inputs: merged, outputs: mergedOutputs };
}
