import { readdir } from 'node:fs/promises';
import type { DataDirs } from '../data/data-dir';
import type { Registry } from '../graph/validate';
import type { InputSpec, NodeDefinition, NodeInputSpecs } from './types';

const IMAGE_EXTENSIONS = /\.(png|jpe?g|webp|gif|bmp|tiff?|avif|heic|heif)$/i;

/** Top-level image files in input/, as LoadImage's combo lists them (a snapshot per request). */
export async function listInputImages(dirs: DataDirs): Promise<string[]> {
  const entries = await readdir(dirs.input, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && IMAGE_EXTENSIONS.test(e.name))
    .map((e) => e.name)
    .sort();
}

function withUploadChoices(spec: InputSpec, files: string[]): InputSpec {
  if (Array.isArray(spec[0]) && spec[1]?.image_upload === true) return [files, spec[1]];
  return spec;
}

function section(specs: Record<string, InputSpec> | undefined, files: string[]) {
  if (!specs) return undefined;
  return Object.fromEntries(Object.entries(specs).map(([k, v]) => [k, withUploadChoices(v, files)]));
}

function describeInputs(input: NodeInputSpecs, files: string[]) {
  const out: Record<string, unknown> = {};
  const order: Record<string, string[]> = {};
  for (const key of ['required', 'optional', 'hidden'] as const) {
    const specs = input[key];
    if (!specs) continue;
    out[key] = key === 'hidden' ? specs : section(specs as Record<string, InputSpec>, files);
    order[key] = Object.keys(specs);
  }
  return { input: out, input_order: order };
}

export function describeNode(def: NodeDefinition, files: string[]): Record<string, unknown> {
  const v3 = def.schema === 'v3';
  return {
    ...describeInputs(def.input, files),
    output: def.outputs,
    output_is_list: def.outputs.map(() => false),
    output_name: def.outputNames ?? def.outputs,
    ...(v3 ? { output_tooltips: def.outputs.map(() => null) } : {}),
    name: def.name,
    display_name: def.displayName,
    description: def.description ?? '',
    python_module: def.pythonModule,
    category: def.category,
    output_node: def.outputNode === true,
    ...(v3 ? { deprecated: false, experimental: false, api_node: false } : {}),
  };
}

export async function objectInfo(registry: Registry, dirs: DataDirs, only?: string) {
  const files = await listInputImages(dirs);
  const out: Record<string, unknown> = {};
  for (const def of registry.values()) {
    if (only === undefined || def.name === only) out[def.name] = describeNode(def, files);
  }
  return out;
}
