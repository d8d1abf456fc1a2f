import type { ComfyGraph, ComfyInputValue, ComfyNode } from '../workflows/types';

/**
 * FlowScale's own `FS*` nodes and the core ComfyUI (0.3.64) nodes that do the same thing, so a FlowScale
 * workflow runs on a stock ComfyUI. Node ids are kept, so outputs are still found under the same node
 * and the client sees the same FlowScale outputs either way: images as images, texts and integers as
 * text (PreviewAny's `{"text": [...]}` is read back the way FSSaveText's inline text is).
 */
interface Rule {
  /** Core classes that can stand in, preferred first; the first one the backend has is used. */
  to: readonly string[];
  /** FS input → core input. Inputs not listed (`label`, a preview's `filename_prefix`) are dropped. */
  inputs: Readonly<Record<string, string>>;
}

/** A rule, or why this node (with these settings) has no core equivalent. */
type Lowering = (inputs: Readonly<Record<string, ComfyInputValue>>) => Rule | { unsupported: string };

// A Map, not an object: a class_type is user input, and "constructor" must not find Object's.
const LOWERINGS: ReadonlyMap<string, Lowering> = new Map(
  Object.entries({
    FSLoadImage: () => ({ to: ['LoadImage'], inputs: { image: 'image' } }),
    FSLoadText: () => ({
      to: ['PrimitiveString', 'PrimitiveStringMultiline'],
      inputs: { default_value: 'value' },
    }),
    FSLoadInteger: () => ({ to: ['PrimitiveInt'], inputs: { default_value: 'value' } }),
    // PreviewAny writes str(value): the text FSSaveText and FSSaveInteger write.
    FSSaveText: () => ({ to: ['PreviewAny'], inputs: { text: 'source' } }),
    FSSaveInteger: () => ({ to: ['PreviewAny'], inputs: { integer: 'source' } }),
    FSSaveImage: (inputs) => {
      const format = inputs.format ?? 'png';
      // Core SaveImage writes PNG only; another format would come back as a different file.
      if (format !== 'png')
        return { unsupported: `format ${JSON.stringify(format)}: core SaveImage writes only png` };
      return { to: ['SaveImage'], inputs: { images: 'images', filename_prefix: 'filename_prefix' } };
    },
  } satisfies Record<string, Lowering>),
);

/** What lowering did to one node. */
export interface LoweredNode {
  node_id: string;
  from: string;
  to: string;
  /** FS input name → the core input it became. */
  inputs: Readonly<Record<string, string>>;
}

/** An FS node the backend lacks that could not be lowered, and why. */
export interface UnlowerableNode {
  node_id: string;
  class_type: string;
  /** Said after the node's name: `format "jpg": core SaveImage writes only png`. */
  reason: string;
}

export interface LoweredGraph {
  /** The input graph itself when nothing was lowered, else a copy. */
  graph: ComfyGraph;
  lowered: LoweredNode[];
  unlowerable: UnlowerableNode[];
}

/** Where a node's lowering leads on a backend with these classes. */
function lowerNode(
  id: string,
  node: ComfyNode,
  has: (classType: string) => boolean,
): LoweredNode | UnlowerableNode | undefined {
  const lowering = LOWERINGS.get(node.class_type);
  if (!lowering || has(node.class_type)) return undefined;
  const rule = lowering(node.inputs ?? {});
  const at = { node_id: id, class_type: node.class_type };
  if ('unsupported' in rule) return { ...at, reason: rule.unsupported };
  const to = rule.to.find(has);
  if (!to) return { ...at, reason: `nor its core equivalent ${rule.to.join(' or ')}` };
  return { node_id: id, from: node.class_type, to, inputs: rule.inputs };
}

/**
 * Replaces each FS node the backend lacks (`has` is false) with its core equivalent, when the backend
 * has that. A backend that has the FS nodes gets the graph unchanged. Pure: the input is never modified.
 */
export function lowerFsNodes(graph: ComfyGraph, has: (classType: string) => boolean): LoweredGraph {
  const lowered: LoweredNode[] = [];
  const unlowerable: UnlowerableNode[] = [];
  for (const [id, node] of Object.entries(graph)) {
    const result = lowerNode(id, node, has);
    if (!result) continue;
    if ('reason' in result) unlowerable.push(result);
    else lowered.push(result);
  }
  if (lowered.length === 0) return { graph, lowered, unlowerable };
  const copy: ComfyGraph = { ...graph };
  for (const { node_id, to, inputs: renames } of lowered) {
    const node = graph[node_id] as ComfyNode;
    const inputs: Record<string, ComfyInputValue> = {};
    for (const [from, core] of Object.entries(renames))
      if (from in (node.inputs ?? {})) inputs[core] = structuredClone(node.inputs[from] as ComfyInputValue);
    copy[node_id] = { ...(node._meta ? { _meta: { ...node._meta } } : {}), class_type: to, inputs };
  }
  return { graph: copy, lowered, unlowerable };
}
