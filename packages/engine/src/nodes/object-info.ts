import { readdir } from 'node:fs/promises';
import type { DataDirs } from '../data/data-dir';
import { listModels } from '../data/models';
import type { Registry } from '../graph/validate';
import { pyOptions, stringifyPy } from './py-numbers';
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

/** Choices filled in when /object_info is read (LoadImage's input files, a loader's model files). */
export type DynamicChoices = (
  def: NodeDefinition,
  name: string,
  spec: InputSpec,
) => readonly string[] | undefined;

function describeSpec(
  def: NodeDefinition,
  name: string,
  spec: InputSpec,
  choices: DynamicChoices,
): unknown[] {
  const [type, options] = spec;
  const listed = Array.isArray(type) ? (choices(def, name, spec) ?? type) : type;
  return options === undefined ? [listed] : [listed, pyOptions(type, options)];
}

function section(def: NodeDefinition, specs: Record<string, InputSpec> | undefined, choices: DynamicChoices) {
  if (!specs) return undefined;
  return Object.fromEntries(Object.entries(specs).map(([k, v]) => [k, describeSpec(def, k, v, choices)]));
}

function describeInputs(def: NodeDefinition, choices: DynamicChoices) {
  const input: NodeInputSpecs = def.input;
  const out: Record<string, unknown> = {};
  const order: Record<string, string[]> = {};
  for (const key of ['required', 'optional', 'hidden'] as const) {
    const specs = input[key];
    if (!specs) continue;
    out[key] = key === 'hidden' ? specs : section(def, specs as Record<string, InputSpec>, choices);
    order[key] = Object.keys(specs);
  }
  return { input: out, input_order: order };
}

export function describeNode(def: NodeDefinition, choices: DynamicChoices): Record<string, unknown> {
  const v3 = def.schema === 'v3';
  return {
    ...describeInputs(def, choices),
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
    ...(def.outputTooltips ? { output_tooltips: def.outputTooltips } : {}),
    ...(v3 ? { deprecated: false, experimental: false, api_node: false } : {}),
  };
}

/** Reads the dynamic choices once per request: input images and the model folders the nodes list. */
async function loadChoices(registry: Registry, dirs: DataDirs): Promise<DynamicChoices> {
  const images = await listInputImages(dirs);
  const folders = new Set([...registry.values()].flatMap((def) => Object.values(def.modelInputs ?? {})));
  const models = new Map<string, string[]>();
  for (const folder of folders) models.set(folder, await listModels(dirs, folder));
  return (def, name, spec) => {
    if (spec[1]?.image_upload === true) return images;
    const folder = def.modelInputs?.[name];
    return folder === undefined ? undefined : models.get(folder);
  };
}

/** ComfyUI's /object_info (or one class of it) as JSON text with Python's number spelling. */
export async function objectInfo(registry: Registry, dirs: DataDirs, only?: string): Promise<string> {
  const choices = await loadChoices(registry, dirs);
  const out: Record<string, unknown> = {};
  for (const def of registry.values()) {
    if (only === undefined || def.name === only) out[def.name] = describeNode(def, choices);
  }
  return stringifyPy(out);
}
