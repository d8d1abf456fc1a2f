/**
 * The parts of ComfyUI's `/object_info` the server reads, and ComfyUI's own rules for them (linked-type
 * matching, combo options), so a graph can be judged the way a backend would judge it.
 */

/** One input's spec: `[type, config]`, where type is a type name or, for an old-style combo, the options. */
export type InputSpecInfo = [unknown, Record<string, unknown>?];

export interface NodeInfo {
  input?: {
    required?: Record<string, InputSpecInfo>;
    optional?: Record<string, InputSpecInfo>;
    hidden?: Record<string, unknown>;
  };
  /** Output slot types, in slot order (a list for a combo output). */
  output?: unknown[];
  output_name?: string[];
  output_node?: boolean;
  category?: string;
}

export type ObjectInfo = Record<string, NodeInfo>;

/** Types a literal (non-linked) value can be given for; anything else must come from a link. */
export const LITERAL_TYPES: ReadonlySet<string> = new Set([
  'INT',
  'FLOAT',
  'STRING',
  'BOOLEAN',
  'COMBO',
  '*',
]);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The spec of a node's input, from its required or optional section. */
export function inputSpecOf(info: NodeInfo, name: string): InputSpecInfo | undefined {
  const spec = info.input?.required?.[name] ?? info.input?.optional?.[name];
  return Array.isArray(spec) ? spec : undefined;
}

export const requiredInputs = (info: NodeInfo): string[] => Object.keys(info.input?.required ?? {});

/** The type name of an input: its declared name, or COMBO for an options list. */
export const typeOfSpec = (spec: InputSpecInfo): string =>
  typeof spec[0] === 'string' ? spec[0] : Array.isArray(spec[0]) ? 'COMBO' : String(spec[0]);

export const configOf = (spec: InputSpecInfo): Record<string, unknown> => (isRecord(spec[1]) ? spec[1] : {});

/** A combo's options, in both the old (`[[...options]]`) and the v3 (`["COMBO", {options}]`) shape. */
export function comboOptions(spec: InputSpecInfo): unknown[] | null {
  if (Array.isArray(spec[0])) return spec[0];
  if (spec[0] === 'COMBO') {
    const options = configOf(spec).options;
    return Array.isArray(options) ? options : [];
  }
  return null;
}

/**
 * A combo filled from files the client uploads (LoadImage's `image_upload`, `video_upload`, …): its options
 * are the backend's input folder of the moment, not a fixed set, so a value outside them is no error here.
 */
export const isUploadCombo = (spec: InputSpecInfo): boolean =>
  Object.entries(configOf(spec)).some(([key, value]) => /upload$/i.test(key) && value === true);

/** The type name of a node's output slot, or undefined when the slot does not exist. */
export function outputTypeOf(info: NodeInfo, slot: number): string | undefined {
  const outputs = info.output ?? [];
  if (!Number.isInteger(slot) || slot < 0 || slot >= outputs.length) return undefined;
  const type = outputs[slot];
  return typeof type === 'string' ? type : 'COMBO';
}

/** ComfyUI's validate_node_input: `*` matches anything, comma-separated lists match by overlap. */
export function typesMatch(received: string, spec: InputSpecInfo): boolean {
  const expected = typeOfSpec(spec);
  if (expected === 'COMBO') return received === '*' || received === 'COMBO' || received === 'STRING';
  if (received === expected) return true;
  const have = received.split(',').map((type) => type.trim());
  const want = new Set(expected.split(',').map((type) => type.trim()));
  return have.includes('*') || want.has('*') || have.some((type) => want.has(type));
}
