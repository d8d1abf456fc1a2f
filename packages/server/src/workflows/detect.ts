import { inputSpecOf, type NodeInfo, typeOfSpec } from '../fleet/object-info';
import type { ComfyGraph, ComfyInputValue, InputSpec, InputType, OutputSpec, OutputType } from './types';

interface InputRule {
  parameter: string;
  type: InputType;
}

/** Node classes whose widget value becomes an API input. */
const INPUT_NODES: Record<string, InputRule> = {
  FSLoadImage: { parameter: 'image', type: 'image' },
  FSLoadImageFromURL: { parameter: 'image_url', type: 'string' },
  FSLoadVideo: { parameter: 'video', type: 'video' },
  FSLoadVideoFromURL: { parameter: 'video_url', type: 'string' },
  FSLoadAudio: { parameter: 'audio', type: 'audio' },
  FSLoadAudioFromURL: { parameter: 'audio_url', type: 'string' },
  FSLoadText: { parameter: 'default_value', type: 'string' },
  FSLoadInteger: { parameter: 'default_value', type: 'integer' },
  LoadImage: { parameter: 'image', type: 'image' },
  PrimitiveString: { parameter: 'value', type: 'string' },
  PrimitiveStringMultiline: { parameter: 'value', type: 'string' },
  PrimitiveInt: { parameter: 'value', type: 'integer' },
  PrimitiveFloat: { parameter: 'value', type: 'number' },
  PrimitiveBoolean: { parameter: 'value', type: 'boolean' },
};

/**
 * What some well-known output nodes produce, where their inputs do not say (VHS_VideoCombine takes
 * images but writes a video). Also what is assumed of these classes before any backend's inventory is
 * known; once it is, a node is an output node exactly when `/object_info` says `output_node: true`.
 */
const KNOWN_OUTPUT_TYPES: Record<string, OutputType> = {
  FSSaveImage: 'image',
  FSSaveText: 'string',
  FSSaveInteger: 'integer',
  FSSaveVideo: 'video',
  FSSaveAudio: 'audio',
  FSSave3D: 'file',
  SaveImage: 'image',
  PreviewImage: 'image',
  SaveAnimatedWEBP: 'image',
  SaveAnimatedPNG: 'image',
  SaveVideo: 'video',
  SaveAudio: 'audio',
  PreviewAudio: 'audio',
  PreviewAny: 'string',
  VHS_VideoCombine: 'video',
};

const isLink = (value: ComfyInputValue | undefined): boolean =>
  Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'number';

const literalDefault = (value: ComfyInputValue | undefined, type: InputType): InputSpec['default'] => {
  if (value === undefined || value === null || isLink(value)) return undefined;
  if (typeof value === 'string') return value === '' && type !== 'string' ? undefined : value;
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  return undefined;
};

const labelOf = (inputs: Record<string, ComfyInputValue>): string | undefined =>
  typeof inputs.label === 'string' && inputs.label.trim() !== '' ? inputs.label : undefined;

/** Node ids sorted numerically when they are numbers, so detected inputs come out in a stable order. */
const sortedNodeIds = (graph: ComfyGraph): string[] =>
  Object.keys(graph).sort((a, b) => {
    const [na, nb] = [Number(a), Number(b)];
    return Number.isFinite(na) && Number.isFinite(nb) ? na - nb : a.localeCompare(b);
  });

export function detectInputs(graph: ComfyGraph): InputSpec[] {
  const specs: InputSpec[] = [];
  for (const nodeId of sortedNodeIds(graph)) {
    const node = graph[nodeId];
    const rule = node ? ownValue(INPUT_NODES, node.class_type) : undefined;
    if (!node || !rule) continue;
    const value = node.inputs?.[rule.parameter];
    if (isLink(value)) continue;
    const defaultValue = literalDefault(value, rule.type);
    const label = labelOf(node.inputs ?? {});
    specs.push({
      name: `${rule.parameter}_${nodeId}`,
      type: rule.type,
      required: defaultValue === undefined,
      ...(defaultValue !== undefined ? { default: defaultValue } : {}),
      ...(label ? { label } : {}),
      node_id: nodeId,
      parameter: rule.parameter,
    });
  }
  return specs;
}

/** Output slot types (of the linked inputs of an output node) → what the node produces. */
const TYPE_OF_SLOT: Record<string, OutputType> = {
  IMAGE: 'image',
  MASK: 'image',
  VIDEO: 'video',
  AUDIO: 'audio',
  STRING: 'string',
  '*': 'string',
  INT: 'integer',
};

/** A custom output node produces what its first linked input carries (IMAGE → image, …), else a file. */
function inferOutputType(node: ComfyGraph[string], info: NodeInfo): OutputType {
  for (const [input, value] of Object.entries(node.inputs ?? {})) {
    const spec = isLink(value) ? inputSpecOf(info, input) : undefined;
    const type = spec ? TYPE_OF_SLOT[typeOfSpec(spec)] : undefined;
    if (type) return type;
  }
  return 'file';
}

/** The class's description in the fleet, if any backend has it (undefined while none is known). */
export type NodeInfoLookup = (classType: string) => NodeInfo | undefined;

/**
 * The graph's output nodes. A preview (an output node writing files without a `filename_prefix`, as
 * PreviewImage and PreviewAudio do, into ComfyUI's temp folder) is an output only when the graph has no
 * other: a workflow's API outputs are what it saves.
 */
export function detectOutputs(graph: ComfyGraph, nodeInfo: NodeInfoLookup = () => undefined): OutputSpec[] {
  const specs: Array<OutputSpec & { preview: boolean }> = [];
  for (const nodeId of sortedNodeIds(graph)) {
    const node = graph[nodeId];
    if (!node) continue;
    const info = nodeInfo(node.class_type);
    const known = ownValue(KNOWN_OUTPUT_TYPES, node.class_type);
    if (info ? info.output_node !== true : !known) continue;
    const type = known ?? inferOutputType(node, info as NodeInfo);
    const inputs = node.inputs ?? {};
    const parameter = 'filename_prefix' in inputs ? 'filename_prefix' : (Object.keys(inputs)[0] ?? 'output');
    const label = labelOf(inputs);
    specs.push({
      name: `${parameter}_${nodeId}`,
      type,
      node_id: nodeId,
      parameter,
      ...(label ? { label } : {}),
      preview: parameter !== 'filename_prefix' && type !== 'string' && type !== 'integer',
    });
  }
  const saved = specs.filter((spec) => !spec.preview);
  return (saved.length > 0 ? saved : specs).map(({ preview: _preview, ...spec }) => spec);
}

/** Checks the shape of an API-format graph; returns a list of problems (empty when valid). */
export function graphProblems(graph: unknown): string[] {
  if (typeof graph !== 'object' || graph === null || Array.isArray(graph)) {
    return ['workflow must be a ComfyUI API-format object of node id → node'];
  }
  const entries = Object.entries(graph as Record<string, unknown>);
  if (entries.length === 0) return ['workflow has no nodes'];
  const problems: string[] = [];
  for (const [nodeId, node] of entries) {
    if (typeof node !== 'object' || node === null) {
      problems.push(`node ${nodeId} is not an object`);
      continue;
    }
    const { class_type: classType, inputs } = node as Record<string, unknown>;
    if (typeof classType !== 'string' || classType === '') problems.push(`node ${nodeId} has no class_type`);
    if (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs)) {
      problems.push(`node ${nodeId} has no inputs object`);
    }
  }
  return problems;
}

/** A table entry by a name from the workflow: `constructor` or `__proto__` must not find Object's members. */
function ownValue<T>(table: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
